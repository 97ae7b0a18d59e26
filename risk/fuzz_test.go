package risk

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzImportCSV: any input either imports rows that all validate, or fails with an
// *ImportError whose rows carry line numbers; never a panic. Imported rows survive
// an export and re-import unchanged.
func FuzzImportCSV(f *testing.F) {
	for _, seed := range []string{
		"title,owner,likelihood,impact,status\nDisk full,ann,3,4,open\n",
		"title,owner,likelihood,impact\n\"multi\nline\",o,1,1\n",
		"\ufefftitle,owner,likelihood,impact,tags,due\n'=x,o,5,5,a;b,2025-01-31\n",
		"title,owner,likelihood,impact\n\"unterminated,o,1,1\n",
		"id,title,description,category,service,owner,likelihood,impact,score,level,residual_likelihood,residual_impact,residual_score,residual_level,treatment,treatment_rationale,status,escalation,due,next_review,tags,materialising,created,updated\n1,t,d,c,s,o,2,3,6,Low,1,1,1,Very Low,accept,why,accepted,team,,,x,false,,\n",
		"a,b\n1,2,3\n",
		"",
	} {
		f.Add([]byte(seed), false)
	}
	m := DefaultMatrix()
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		o := ImportOptions{Matrix: m, Levels: DefaultLevels, SkipBad: skip}
		rows, err := ImportCSV(bytes.NewReader(data), o)
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Rows) == 0 {
				t.Fatalf("error is not an *ImportError with rows: %v", err)
			}
			for _, r := range ie.Rows {
				if r.Line < 1 {
					t.Fatalf("row error without a line: %+v", r)
				}
			}
			if !ie.Skipped && rows != nil {
				t.Fatal("rows returned with a failed import")
			}
		}
		var risks []Risk
		for _, r := range rows {
			if verr := r.Risk.Validate(m, DefaultLevels); verr != nil {
				t.Fatalf("imported an invalid risk: %v", verr)
			}
			risks = append(risks, r.Risk)
		}
		if len(risks) == 0 {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, m, risks); err != nil {
			t.Fatal(err)
		}
		again, err := ImportCSV(&buf, o)
		if err != nil || len(again) != len(risks) {
			t.Fatalf("re-import of export: %d rows, %v", len(again), err)
		}
		for i := range again {
			if d := Diff(risks[i], again[i].Risk); len(d) != 0 {
				t.Fatalf("round trip changed %+v", d)
			}
		}
	})
}
