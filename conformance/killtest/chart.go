package killtest

import (
	"fmt"
	"html"
	"strings"
)

// chartOutcomes are the rows of the chart, top to bottom, with their colours.
var chartOutcomes = []struct{ outcome, color string }{
	{OutcomeFinished, "#9e9e9e"},
	{OutcomeNothingWritten, "#64b5f6"},
	{OutcomeCommitted, "#2e7d32"},
	{OutcomeRolledBack, "#f9a825"},
	{OutcomeSilentLoss, "#c62828"},
	{OutcomeViolation, "#6a1b9a"},
}

// SVG draws one panel per mode: each writer kill (uniform or targeted) is a
// dot at its kill instant, as a fraction of the measured unkilled write,
// in the row of its outcome.
func (rep *Report) SVG() string {
	const (
		width    = 960
		left     = 230
		right    = 30
		rowH     = 26
		panelTop = 40
		maxX     = 1.25
	)
	var modes []string
	for _, s := range rep.Summary {
		modes = append(modes, s.Mode)
	}
	panelH := rowH*len(chartOutcomes) + 50
	height := panelTop + panelH*len(modes) + 40
	plotW := float64(width - left - right)
	xOf := func(f float64) float64 { return float64(left) + plotW*min(f, maxX)/maxX }

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="%d" y="22" font-size="15" font-weight="bold">Outcome of each SIGKILL against its instant (seed %d)</text>`+"\n", left-200, rep.Seed)
	for pi, mode := range modes {
		top := panelTop + pi*panelH
		w(`<text x="10" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", top+14, html.EscapeString(mode))
		plotTop := top + 22
		for ri, o := range chartOutcomes {
			y := plotTop + ri*rowH + rowH/2
			w(`<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-8, y, html.EscapeString(o.outcome))
			w(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#eeeeee"/>`+"\n", left, width-right, y, y)
		}
		bottom := plotTop + rowH*len(chartOutcomes)
		for _, tick := range []float64{0, 0.25, 0.5, 0.75, 1, 1.25} {
			x := xOf(tick)
			w(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#cccccc"/>`+"\n", x, x, plotTop, bottom)
			w(`<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%.2f</text>`+"\n", x, bottom+14, tick)
		}
		for _, r := range rep.Trials {
			if r.Mode != mode || r.Kind == KillRecovery {
				continue
			}
			at := r.KilledAfter
			if !r.Killed {
				at = r.Fraction
			}
			row := -1
			for i, o := range chartOutcomes {
				if o.outcome == r.Outcome {
					row = i
				}
			}
			if row < 0 {
				row = len(chartOutcomes) - 1
			}
			jitter := float64((r.Index*7919)%17-8) * 1.2
			y := float64(plotTop+row*rowH+rowH/2) + jitter
			shape := "circle"
			if r.Kind == KillPoint {
				shape = "rect"
			}
			color := chartOutcomes[row].color
			if shape == "circle" {
				w(`<circle cx="%.1f" cy="%.1f" r="2.6" fill="%s" fill-opacity="0.6"/>`+"\n", xOf(at), y, color)
			} else {
				w(`<rect x="%.1f" y="%.1f" width="5" height="5" fill="none" stroke="%s"/>`+"\n", xOf(at)-2.5, y-2.5, color)
			}
		}
	}
	w(`<text x="%d" y="%d" text-anchor="middle" fill="#333333">kill instant, as a fraction of the measured unkilled write (dots: uniform kills, squares: kills at named crash points)</text>`+"\n",
		left+int(plotW/2), height-12)
	w("</svg>\n")
	return b.String()
}
