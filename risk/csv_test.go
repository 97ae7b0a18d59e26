package risk

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func importOpts(skip bool) ImportOptions {
	return ImportOptions{Matrix: DefaultMatrix(), Levels: DefaultLevels, SkipBad: skip}
}

func TestExportEscapesFormulasAndRoundTrips(t *testing.T) {
	m := DefaultMatrix()
	risks := []Risk{{ID: 1, Title: "=cmd|' /C calc'!A0", Owner: "+owner", Service: "-svc", Category: "@cat",
		Description: "\tTabbed\nand multi-line, \"quoted\"", Likelihood: 2, Impact: 3, Status: StatusOpen, Escalation: "team",
		Tags: []string{"a", "b"}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, m, risks); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{",'=cmd|' /C calc'!A0,", "'+owner", "'-svc", "'@cat", "\"'\tTabbed"} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}
	rows, err := ImportCSV(strings.NewReader(out), importOpts(false))
	if err != nil {
		t.Fatal(err)
	}
	got := rows[0].Risk
	if got.Title != risks[0].Title || got.Owner != "+owner" || got.Description != risks[0].Description || len(got.Tags) != 2 {
		t.Fatalf("round trip: %+v", got)
	}
	buf.Reset()
	WriteCSV(&buf, m, nil)
	if buf.String() != strings.Join(ExportColumns, ",")+"\n" {
		t.Fatalf("empty export %q", buf.String())
	}
}

func TestImportCSVErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"empty file", "", []string{"line 1: the file is empty"}},
		{"missing columns", "title,likelihood\nx,1\n", []string{`line 1: missing required column "owner"`, `missing required column "impact"`}},
		{"unknown column", "title,owner,likelihood,impact,colour\nx,o,1,1,red\n", []string{`line 1: unknown column "colour"`}},
		{"duplicate column", "title,owner,likelihood,impact,title\nx,o,1,1,y\n", []string{`column "title" appears twice`}},
		{"wrong column count", "title,owner,likelihood,impact\nx,o,1\ny,o,1,1\n", []string{"line 2: has 3 columns, the header has 4"}},
		{"bad values", "title,owner,likelihood,impact,status,due\nok,o,1,1,open,\n,o,x,7,open,2025-13-01\n", []string{
			"line 3: title: must not be empty", `line 3: likelihood: "x" is not a whole number`,
			"line 3: impact: 7 is outside the matrix scale 1..5", `line 3: due: "2025-13-01" is not a date`}},
		{"multi-line row numbers", "title,owner,likelihood,impact,description\na,o,1,1,\"two\nlines\"\nb,o,9,1,x\n", []string{"line 4: likelihood: 9 is outside"}},
		{"bad quoting", "title,owner,likelihood,impact\n\"a,o,1,1\n", []string{"malformed CSV"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := ImportCSV(strings.NewReader(c.in), importOpts(false))
			var ie *ImportError
			if !errors.As(err, &ie) || rows != nil {
				t.Fatalf("rows %v err %v", rows, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

func TestImportCSVSkipBadAndDefaults(t *testing.T) {
	in := "\ufeffTitle, Owner ,likelihood,impact,status,escalation,id,score\n" +
		"good,ann,2,2,,,17,999\n" +
		"bad,ann,0,2,open,,,\n" +
		"\n" +
		"'=sum(A1),bob,1,1,Accepted,executive,,\n"
	rows, err := ImportCSV(strings.NewReader(in), importOpts(true))
	var ie *ImportError
	if !errors.As(err, &ie) || !ie.Skipped || len(ie.Rows) != 1 || ie.Rows[0].Line != 3 {
		t.Fatalf("err %v", err)
	}
	if len(rows) != 2 || rows[0].Risk.Status != StatusOpen || rows[0].Risk.Escalation != "team" || rows[0].Risk.ID != 0 {
		t.Fatalf("rows %+v", rows)
	}
	if r := rows[1].Risk; r.Title != "=sum(A1)" || r.Status != StatusAccepted || r.Escalation != "executive" || rows[1].Line != 5 {
		t.Fatalf("row 2 %+v", rows[1])
	}
}
