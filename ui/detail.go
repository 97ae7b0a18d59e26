package ui

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/opscockpit/opscockpit/cockpit"
	"github.com/opscockpit/opscockpit/datasource"
	"github.com/opscockpit/opscockpit/history"
	"github.com/opscockpit/opscockpit/runbooks"
)

// AckFunc acknowledges an alert (and, with silenceFor > 0, silences it upstream).
type AckFunc func(ctx context.Context, a datasource.Alert, by, comment string, silenceFor time.Duration) error

// UnsilenceFunc expires the silences that mute an alert.
type UnsilenceFunc func(ctx context.Context, a datasource.Alert) error

// alertDetail is the strip above the runbook: what the selected alert is, since when,
// who has it, and the actions on it.
type alertDetail struct {
	win       func() fyne.Window
	ackFn     AckFunc
	unsilence UnsilenceFunc
	unsilBtn  *widget.Button
	title     *line
	since     *line
	desc      *line
	ackLine   *line
	ackBtn    *widget.Button
	source    *widget.Hyperlink
	dashboard *widget.Hyperlink
	box       *fyne.Container
	alert     datasource.Alert
}

var silenceChoices = []string{"no silence", "30m", "1h", "2h", "4h", "8h"}

func newAlertDetail(win func() fyne.Window, ack AckFunc, unsilence UnsilenceFunc) *alertDetail {
	d := &alertDetail{
		win: win, ackFn: ack, unsilence: unsilence,
		title:   newLine(theme.SizeNameSubHeadingText, fyne.TextStyle{Bold: true}),
		since:   newLine(theme.SizeNameText, fyne.TextStyle{}),
		desc:    newLine(theme.SizeNameText, fyne.TextStyle{}),
		ackLine: newLine(theme.SizeNameText, fyne.TextStyle{Bold: true}),
	}
	d.ackBtn = widget.NewButtonWithIcon("Acknowledge…", theme.ConfirmIcon(), d.askAck)
	d.ackBtn.Importance = widget.HighImportance
	d.source = widget.NewHyperlink("source ↗", nil)
	d.dashboard = widget.NewHyperlink("dashboard ↗", nil)
	d.unsilBtn = widget.NewButtonWithIcon("Expire silence", theme.VolumeUpIcon(), d.expire)
	d.unsilBtn.Hide()
	actions := container.NewHBox(d.unsilBtn, d.ackBtn, d.source, d.dashboard)
	d.box = container.NewVBox(d.title.RichText, d.since.RichText, d.desc.RichText,
		container.NewBorder(nil, nil, nil, actions, d.ackLine.RichText), widget.NewSeparator())
	d.box.Hide()
	return d
}

func (d *alertDetail) show(a datasource.Alert, acks map[string]history.Ack, now time.Time) {
	d.alert = a
	if a.Fingerprint == "" {
		d.box.Hide()
		return
	}
	d.box.Show()
	sev, _ := severityBadge(a)
	d.title.set(fmt.Sprintf("%s  ·  %s", a.Name(), sev), theme.ColorNameForeground)
	state := fmt.Sprintf("%s since %s (%s)", a.State, a.StartsAt.Local().Format("15:04:05"), cockpit.HumanDuration(now.Sub(a.StartsAt)))
	if a.State == datasource.StateResolved && !a.EndsAt.IsZero() {
		state = fmt.Sprintf("resolved at %s after %s", a.EndsAt.Local().Format("15:04:05"), cockpit.HumanDuration(a.EndsAt.Sub(a.StartsAt)))
	}
	d.since.set(state+"  ·  from "+a.Source, ColorNameMuted)
	d.desc.set(a.Annotations["description"], theme.ColorNameForeground)
	if ack, ok := acks[a.Fingerprint]; ok && !ack.At.Before(a.StartsAt) {
		msg := fmt.Sprintf("ACK by %s %s ago", ack.By, cockpit.HumanDuration(now.Sub(ack.At)))
		if ack.Comment != "" {
			msg += ": " + ack.Comment
		}
		if ack.SilenceID != "" {
			msg += " (silenced)"
		}
		d.ackLine.set(msg, theme.ColorNamePrimary)
	} else if a.State == datasource.StateFiring {
		d.ackLine.set("not acknowledged", theme.ColorNameWarning)
	} else {
		d.ackLine.set("", ColorNameMuted)
	}
	setLink(d.source, a.GeneratorURL)
	setLink(d.dashboard, a.Annotations["dashboard_url"])
	if d.ackFn == nil || d.win == nil || d.win() == nil {
		d.ackBtn.Disable()
	} else {
		d.ackBtn.Enable()
	}
	if a.State == datasource.StateSuppressed && len(a.SilencedBy) > 0 && d.unsilence != nil && d.win != nil && d.win() != nil {
		d.unsilBtn.Show()
	} else {
		d.unsilBtn.Hide()
	}
}

// expire asks before lifting the silences on the selected alert; the work runs off the
// UI goroutine and the alert comes back firing through the model on the next poll.
func (d *alertDetail) expire() {
	w, a := d.win(), d.alert
	if w == nil || d.unsilence == nil || len(a.SilencedBy) == 0 {
		return
	}
	dialog.ShowConfirm("Expire silence", fmt.Sprintf("Lift the %d silence(s) on %s? It will page again if it is still firing.", len(a.SilencedBy), a.Name()), func(ok bool) {
		if !ok {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := d.unsilence(ctx, a); err != nil {
				fyne.Do(func() { dialog.ShowError(err, w) })
			}
		}()
	}, w)
}

// setLink shows a link only when its URL passes the same policy as runbook links.
func setLink(h *widget.Hyperlink, raw string) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || !runbooks.LinkAllowed(raw) || (u.Scheme != "http" && u.Scheme != "https") {
		h.Hide()
		return
	}
	h.SetURL(u)
	h.Show()
}

// askAck opens the acknowledge form; the ack itself runs off the UI goroutine and its
// outcome comes back through the model (or as an error dialog).
func (d *alertDetail) askAck() {
	w := d.win()
	if w == nil || d.ackFn == nil {
		return
	}
	a := d.alert
	prefs := fyne.CurrentApp().Preferences()
	who := widget.NewEntry()
	who.SetText(prefs.StringWithFallback("ack.who", ""))
	who.SetPlaceHolder("your name")
	who.Validator = func(s string) error {
		if s == "" {
			return fmt.Errorf("say who is taking it")
		}
		return nil
	}
	comment := widget.NewEntry()
	comment.SetPlaceHolder("what you are doing about it")
	silence := widget.NewSelect(silenceChoices, nil)
	silence.SetSelected(silenceChoices[0])
	items := []*widget.FormItem{
		widget.NewFormItem("Who", who),
		widget.NewFormItem("Comment", comment),
		widget.NewFormItem("Silence upstream", silence),
	}
	showForm("Acknowledge "+a.Name(), "Acknowledge", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		prefs.SetString("ack.who", who.Text)
		var dur time.Duration
		if silence.Selected != silenceChoices[0] {
			dur, _ = time.ParseDuration(silence.Selected)
		}
		by, text := who.Text, comment.Text
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := d.ackFn(ctx, a, by, text, dur); err != nil {
				fyne.Do(func() { dialog.ShowError(err, w) })
			}
		}()
	}, w, 560)
}
