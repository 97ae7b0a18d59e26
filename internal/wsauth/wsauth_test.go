package wsauth

import (
	"net/http/httptest"
	"testing"
)

func TestTokensAndOrigins(t *testing.T) {
	tk := NewTokens([]string{" s3cret\n", "", "other"})
	if tk.Empty() || NewTokens([]string{" ", ""}).Empty() != true {
		t.Fatal("empty tokens counted")
	}
	for tok, want := range map[string]string{"s3cret": "", "other": "", "": MissingToken, "s3cre": InvalidToken, "s3cret ": InvalidToken} {
		if got := tk.Check(tok); got != want {
			t.Errorf("Check(%q) = %q, want %q", tok, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	if Bearer(r) != "" {
		t.Fatal("a token from nowhere")
	}
	r.Header.Set("Authorization", "bearer  s3cret ")
	if Bearer(r) != "s3cret" {
		t.Fatalf("Bearer = %q", Bearer(r))
	}
	r.Header.Set("Authorization", "Basic s3cret")
	if Bearer(r) != "" {
		t.Fatal("a Basic credential taken as a bearer token")
	}
	if !OriginAllowed(r, nil) {
		t.Fatal("a client without Origin refused")
	}
	r.Header.Set("Origin", "https://Wall.example")
	if OriginAllowed(r, nil) || !OriginAllowed(r, []string{"https://wall.example"}) || OriginAllowed(r, []string{"https://wall.example:8443"}) {
		t.Fatal("origin matching")
	}
}
