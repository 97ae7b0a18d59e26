package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"

	"github.com/opscockpit/opscockpit/risk"
)

// The audit trail: every change is a row of risk_audit, appended in the transaction
// that makes the change. Triggers make the table append-only for any connection
// (UPDATE and DELETE raise), and each row's hash is SHA-256 over the previous row's
// hash and this row's content, so editing, deleting or reordering rows in the file
// (after dropping the triggers) breaks the chain at the first bad row. The head
// (last seq and hash) is also kept in risk_meta, so cutting rows off the end shows.

// audit appends one row to the chain.
func (w *wtx) audit(entity string, entityID, riskID int64, field, old, new string) error {
	if !w.headRead {
		err := w.tx.QueryRowContext(w.ctx, "SELECT seq, hash FROM risk_audit ORDER BY seq DESC LIMIT 1").Scan(&w.headSeq, &w.headHash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read audit head: %w", err)
		}
		w.headRead = true
	}
	e := risk.AuditEntry{
		Seq: w.headSeq + 1, At: w.now, Actor: w.actor, Entity: entity, EntityID: entityID,
		RiskID: riskID, Field: field, Old: old, New: new, PrevHash: w.headHash,
	}
	e.Hash = hashEntry(e)
	if _, err := w.tx.ExecContext(w.ctx, `INSERT INTO risk_audit
		(seq, at_ms, actor, entity, entity_id, risk_id, field, old, new, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, ms(e.At), e.Actor, e.Entity, e.EntityID, e.RiskID, e.Field, e.Old, e.New, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	w.headSeq, w.headHash = e.Seq, e.Hash
	w.changed = true
	return nil
}

// hashEntry is SHA-256 over the previous hash and every field of e, each
// length-prefixed so no two different rows encode alike.
func hashEntry(e risk.AuditEntry) string {
	h := sha256.New()
	put := func(h hash.Hash, s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	for _, s := range []string{
		"opscockpit-risk-audit-v1", e.PrevHash, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(ms(e.At), 10),
		e.Actor, e.Entity, strconv.FormatInt(e.EntityID, 10), strconv.FormatInt(e.RiskID, 10),
		e.Field, e.Old, e.New,
	} {
		put(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit returns audit rows, oldest first.
func (s *Store) Audit(ctx context.Context, q risk.AuditQuery) ([]risk.AuditEntry, error) {
	where, args := "1 = 1", []any{}
	if q.RiskID != 0 {
		where += " AND risk_id = ?"
		args = append(args, q.RiskID)
	}
	if !q.Since.IsZero() {
		where += " AND at_ms >= ?"
		args = append(args, ms(q.Since))
	}
	query := "SELECT seq, at_ms, actor, entity, entity_id, risk_id, field, old, new, prev_hash, hash FROM risk_audit WHERE " + where
	if q.Limit > 0 {
		query = "SELECT * FROM (" + query + " ORDER BY seq DESC LIMIT " + strconv.Itoa(q.Limit) + ")"
	}
	rows, err := s.db.R.QueryContext(ctx, query+" ORDER BY seq", args...)
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	defer rows.Close()
	var out []risk.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("read audit trail: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	return out, nil
}

func scanAudit(rows *sql.Rows) (risk.AuditEntry, error) {
	var e risk.AuditEntry
	var at int64
	err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Entity, &e.EntityID, &e.RiskID, &e.Field, &e.Old, &e.New, &e.PrevHash, &e.Hash)
	e.At = fromMS(at)
	return e, err
}

// VerifyResult summarises a successful verification.
type VerifyResult struct {
	Rows     int64
	HeadHash string
}

// Verify walks the whole audit trail in one read transaction and recomputes the
// hash chain. A broken chain gives a *risk.TamperError (errors.Is risk.ErrTampered)
// naming the first bad row: a changed row fails its own hash, a deleted row leaves
// a gap in seq, reordered rows fail their hashes, and rows cut off the end no
// longer match the head recorded in risk_meta.
func (s *Store) Verify(ctx context.Context) (VerifyResult, error) {
	tx, err := s.db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit trail: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT seq, at_ms, actor, entity, entity_id, risk_id, field, old, new, prev_hash, hash FROM risk_audit ORDER BY seq")
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit trail: %w", err)
	}
	defer rows.Close()
	var (
		prevSeq  int64
		prevHash string
	)
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return VerifyResult{}, fmt.Errorf("verify audit trail: row after %d: %w", prevSeq, err)
		}
		switch {
		case e.Seq != prevSeq+1:
			return VerifyResult{}, &risk.TamperError{Seq: prevSeq + 1, Reason: fmt.Sprintf("row %d is missing (next row is %d)", prevSeq+1, e.Seq)}
		case e.PrevHash != prevHash:
			return VerifyResult{}, &risk.TamperError{Seq: e.Seq, Reason: "does not chain onto the previous row (rows deleted or reordered)"}
		case hashEntry(e) != e.Hash:
			return VerifyResult{}, &risk.TamperError{Seq: e.Seq, Reason: "content does not match its hash (row edited)"}
		}
		prevSeq, prevHash = e.Seq, e.Hash
	}
	if err := rows.Err(); err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit trail: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := tx.QueryRowContext(ctx, "SELECT n, s FROM risk_meta WHERE key = 'audit_head'").Scan(&headSeq, &headHash); err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit trail: read head: %w", err)
	}
	if headSeq != prevSeq || headHash != prevHash {
		return VerifyResult{}, &risk.TamperError{Seq: min(headSeq, prevSeq+1),
			Reason: fmt.Sprintf("the trail ends at row %d but %d rows were recorded (rows cut off the end)", prevSeq, headSeq)}
	}
	return VerifyResult{Rows: prevSeq, HeadHash: prevHash}, nil
}
