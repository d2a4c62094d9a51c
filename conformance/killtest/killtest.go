package killtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// StudyTrials is the default trial count, that of a published
// kill-injection study of Spark writers on AWS Lambda.
const StudyTrials = 860

// baseRows is the number of rows in the table before each trial's write.
const baseRows = 1000

// Size is one input size: the first Rows rows of the input file. Weight
// sets its share of the trials.
type Size struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Weight int    `json:"weight"`
}

// DefaultSizes are the sizes the --sizes flag names.
var DefaultSizes = []Size{
	{Name: "small", Rows: 10_000, Weight: 80},
	{Name: "medium", Rows: 1_000_000, Weight: 17},
	{Name: "large", Rows: 3_000_000, Weight: 3},
}

// ParseSizes parses "small,medium,large" or "small:80,medium:17,large:3";
// a name without a weight keeps its default weight.
func ParseSizes(spec string) ([]Size, error) {
	var out []Size
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, hasWeight := strings.Cut(part, ":")
		var size *Size
		for _, s := range DefaultSizes {
			if s.Name == name {
				s := s
				size = &s
			}
		}
		if size == nil {
			return nil, fmt.Errorf("invalid size %q: use small, medium or large, optionally with a weight such as small:80", name)
		}
		if hasWeight {
			w, err := strconv.Atoi(weight)
			if err != nil || w < 1 {
				return nil, fmt.Errorf("invalid weight %q of size %s: expected a positive integer", weight, name)
			}
			size.Weight = w
		}
		out = append(out, *size)
	}
	if len(out) == 0 {
		return nil, errors.New("no size given: use small, medium or large")
	}
	return out, nil
}

// Config is one run of the experiment.
type Config struct {
	// Bin is the safewrite executable that runs the children.
	Bin string
	// Input is the Parquet file whose first rows each size writes.
	Input string
	// WorkDir holds the inputs, the template table and one folder per trial.
	WorkDir string
	Format  Format
	Trials  int
	Seed    uint64
	Sizes   []Size
	// Modes are ModeUnprotected and/or ModeProtected.
	Modes []string
	// TargetFileSize rolls data files at this many bytes, so that larger
	// inputs give several uploads to kill between.
	TargetFileSize int64
	// Workers is the number of trials run at once.
	Workers int
	// Only, when at least 0, runs only the trial with that index.
	Only int
	// Progress receives one line per step and per trial; nil discards.
	Progress io.Writer
	// Command is the command line recorded in the report.
	Command string
}

// cell is the setup shared by every trial of one size and mode.
type cell struct {
	Size Size   `json:"size"`
	Mode string `json:"mode"`
	// Input is the Parquet file of Size.Rows rows.
	Input string `json:"-"`
	// Duration is the longest of the unkilled runs.
	Duration time.Duration `json:"-"`
	// Points are the writer's crash points, in the order it passes them.
	Points []string `json:"points"`
	// RecoverPoints are the crash points of a recovery after a kill
	// between upload and commit (protected mode only).
	RecoverPoints []string `json:"recoverPoints,omitempty"`
	// RecoverDuration is the time of one unkilled `safewrite recover --force`.
	RecoverDuration time.Duration `json:"-"`
	// Uploads is the number of data files one write uploads.
	Uploads int `json:"uploads"`
}

// Run plans and runs the trials and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	started := time.Now()
	r := &runner{cfg: cfg}
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	plans := r.plan()
	if cfg.Only >= 0 {
		if cfg.Only >= len(plans) {
			return nil, fmt.Errorf("trial %d does not exist: the plan has %d trials", cfg.Only, len(plans))
		}
		plans = plans[cfg.Only : cfg.Only+1]
	}
	results := r.runAll(ctx, plans)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newReport(cfg, r.cells, results, time.Since(started)), nil
}

func (cfg *Config) fill() error {
	if cfg.Format == nil {
		cfg.Format = Delta{}
	}
	if cfg.Bin == "" {
		return errors.New("missing safewrite executable: set Config.Bin")
	}
	if cfg.Input == "" {
		return errors.New("missing input: give the Parquet file whose rows the writers append (flights-3m.parquet)")
	}
	if cfg.WorkDir == "" {
		return errors.New("missing work folder: set Config.WorkDir")
	}
	if cfg.Trials < 1 {
		return fmt.Errorf("invalid number of trials %d: expected at least 1", cfg.Trials)
	}
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = DefaultSizes
	}
	if len(cfg.Modes) == 0 {
		cfg.Modes = []string{ModeUnprotected, ModeProtected}
	}
	for _, m := range cfg.Modes {
		if m != ModeUnprotected && m != ModeProtected {
			return fmt.Errorf("invalid mode %q: use %s or %s", m, ModeUnprotected, ModeProtected)
		}
	}
	if cfg.TargetFileSize <= 0 {
		cfg.TargetFileSize = 2 << 20
	}
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	return nil
}

type runner struct {
	cfg      Config
	template string
	cells    []*cell
	mu       sync.Mutex
	finished int
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.cfg.Progress, "killtest: "+format+"\n", args...)
}

// setUp slices the inputs, creates the template table and measures each
// size and mode unkilled.
func (r *runner) setUp(ctx context.Context) error {
	inputs := filepath.Join(r.cfg.WorkDir, "inputs")
	if err := os.MkdirAll(inputs, 0o755); err != nil {
		return err
	}
	base, err := sliceInput(ctx, r.cfg.Input, filepath.Join(inputs, "base.parquet"), baseRows)
	if err != nil {
		return err
	}
	r.template = filepath.Join(r.cfg.WorkDir, "template")
	if err := os.RemoveAll(r.template); err != nil {
		return err
	}
	tbl, err := safewrite.Open(ctx, r.template, safewrite.Options{Format: r.cfg.Format.Name()})
	if err != nil {
		return err
	}
	if _, err := tbl.AppendFiles(ctx, []string{base}, safewrite.AppendOptions{Rewrite: true}); err != nil {
		return fmt.Errorf("create the template table %s: %w", r.template, err)
	}

	for _, size := range r.cfg.Sizes {
		r.logf("preparing %s input: first %d rows of %s", size.Name, size.Rows, r.cfg.Input)
		path, err := sliceInput(ctx, r.cfg.Input, filepath.Join(inputs, size.Name+".parquet"), size.Rows)
		if err != nil {
			return err
		}
		for _, mode := range r.cfg.Modes {
			c := &cell{Size: size, Mode: mode, Input: path}
			if err := r.measure(ctx, c); err != nil {
				return err
			}
			r.logf("%s %s: unkilled write takes %s, %d uploads, %d crash points", size.Name, mode,
				c.Duration.Round(time.Millisecond), c.Uploads, len(c.Points))
			r.cells = append(r.cells, c)
		}
	}
	return nil
}

// sliceInput writes the first rows rows of input to dst, or returns input
// itself when it has no more rows than that.
func sliceInput(ctx context.Context, input, dst string, rows int64) (string, error) {
	f, err := os.Open(input)
	if err != nil {
		return "", fmt.Errorf("open input %s: %w", input, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	in := format.Input{Name: input, Reader: f, ReaderAt: f, Size: info.Size()}
	pf, err := format.OpenParquetFile(in)
	if err != nil {
		return "", err
	}
	if pf.NumRows() < rows {
		return "", fmt.Errorf("input %s has %d rows, fewer than the %d this size needs: give flights-3m.parquet", input, pf.NumRows(), rows)
	}
	if pf.NumRows() == rows {
		return input, nil
	}
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	src, err := format.OpenInput(ctx, in, format.InputOptions{Format: "parquet"})
	if err != nil {
		return "", err
	}
	defer src.Close()
	store, err := objstore.NewLocal(filepath.Dir(dst))
	if err != nil {
		return "", err
	}
	_, err = format.WriteDataFiles(ctx, &limitRows{RowSource: src, left: rows}, format.WriterOptions{
		Schema: src.Schema(), TargetFileSize: 1 << 40, Store: store,
		NewFile: func(context.Context, string) (string, error) { return filepath.Base(dst), nil },
	})
	if err != nil {
		return "", fmt.Errorf("write the first %d rows of %s to %s: %w", rows, input, dst, err)
	}
	return dst, nil
}

// limitRows ends a RowSource after a number of rows.
type limitRows struct {
	format.RowSource
	left int64
}

func (l *limitRows) ReadRows(rows []parquet.Row) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(rows)) > l.left {
		rows = rows[:l.left]
	}
	n, err := l.RowSource.ReadRows(rows)
	l.left -= int64(n)
	if l.left <= 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// measure runs the cell's writer unkilled: once with tracing, to learn its
// crash points, then twice timed, keeping the longer time.
func (r *runner) measure(ctx context.Context, c *cell) error {
	dir := filepath.Join(r.cfg.WorkDir, "measure", c.Size.Name+"-"+c.Mode)
	table := filepath.Join(dir, "table")
	fresh := func() error {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		return copyTree(r.template, table)
	}

	if err := fresh(); err != nil {
		return err
	}
	out, _, err := runChild(ctx, r.cfg.Bin, r.writerArgs(c, table, true))
	if err != nil {
		return fmt.Errorf("trace the %s writer on %s input: %w", c.Mode, c.Size.Name, err)
	}
	c.Points = tracedPoints(out)
	for _, p := range c.Points {
		if strings.HasPrefix(p, "after-upload-") {
			c.Uploads++
		}
	}

	for range 2 {
		if err := fresh(); err != nil {
			return err
		}
		_, elapsed, err := runChild(ctx, r.cfg.Bin, r.uniformArgs(c, table, time.Hour))
		if err != nil {
			return fmt.Errorf("measure the %s writer on %s input: %w", c.Mode, c.Size.Name, err)
		}
		c.Duration = max(c.Duration, elapsed)
	}
	if c.Mode != ModeProtected {
		return nil
	}

	// Recovery after a kill between upload and commit: its points, then its time.
	for i := range 2 {
		if err := fresh(); err != nil {
			return err
		}
		if err := r.stopWriterAt(ctx, c, table, "after-upload-1"); err != nil {
			return err
		}
		if i == 0 {
			out, _, err := runChild(ctx, r.cfg.Bin, r.recoverWriterArgs(table, true))
			if err != nil {
				return fmt.Errorf("trace recovery on %s input: %w", c.Size.Name, err)
			}
			c.RecoverPoints = tracedPoints(out)
			continue
		}
		_, elapsed, err := runChild(ctx, r.cfg.Bin, recoverArgs(table))
		if err != nil {
			return fmt.Errorf("measure recovery on %s input: %w", c.Size.Name, err)
		}
		c.RecoverDuration = elapsed
	}
	return os.RemoveAll(dir)
}

func tracedPoints(out string) []string {
	var points []string
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "pass "); ok && !strings.Contains(p, "-"+KindLog+"-") {
			points = append(points, p)
		}
	}
	return points
}

// writerArgs runs the killtest-writer child, which can stop at a point.
func (r *runner) writerArgs(c *cell, table string, trace bool) []string {
	args := []string{"killtest-writer", "--mode", c.Mode, "--format", r.cfg.Format.Name(),
		"--table", table, "--input", c.Input, "--timeout", r.timeout(c).String(),
		"--target-file-size", strconv.FormatInt(r.cfg.TargetFileSize, 10)}
	if trace {
		args = append(args, "--trace-points")
	}
	return args
}

func (r *runner) recoverWriterArgs(table string, trace bool) []string {
	args := []string{"killtest-writer", "--mode", ModeRecover, "--format", r.cfg.Format.Name(), "--table", table}
	if trace {
		args = append(args, "--trace-points")
	}
	return args
}

// uniformArgs runs the writer that uniform kills hit: the real `safewrite
// append` in protected mode, the killtest-writer in unprotected mode.
func (r *runner) uniformArgs(c *cell, table string, timeout time.Duration) []string {
	if c.Mode != ModeProtected {
		return r.writerArgs(c, table, false)
	}
	return []string{"append", "--table", table, "--input", c.Input, "--rewrite",
		"--timeout", timeout.String(), "--log-level", "error",
		"--target-file-size", strconv.FormatInt(r.cfg.TargetFileSize, 10)}
}

func recoverArgs(table string) []string {
	return []string{"recover", "--table", table, "--force", "--log-level", "error"}
}

// timeout is the protected writer's --timeout: long enough that an
// unkilled write never reaches its point of no return on a loaded machine.
func (r *runner) timeout(c *cell) time.Duration {
	return max(time.Minute, 4*c.Duration).Round(time.Second)
}

// stopWriterAt runs the cell's killtest-writer until point and kills it there.
func (r *runner) stopWriterAt(ctx context.Context, c *cell, table, point string) error {
	ch, err := startChild(r.cfg.Bin, r.writerArgs(c, table, false), []string{PauseEnv + "=" + point})
	if err != nil {
		return err
	}
	reached, err := ch.waitFor(ctx, "at "+point)
	if !reached {
		ch.kill()
		return fmt.Errorf("the %s writer on %s input did not reach crash point %s (exit: %v): %s", c.Mode, c.Size.Name, point, err, ch.stderr.String())
	}
	ch.kill()
	return nil
}

// copyTree copies the folder src to dst.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// plan draws every trial from the seed. Within each size and mode, about
// 35 % of the trials target the named crash points in turn, 10 % (protected
// only) kill a recovery, and the rest kill at a uniform instant.
func (r *runner) plan() []Plan {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, r.cfg.Seed^0x9e3779b97f4a7c15))
	perSize := share(r.cfg.Trials, r.cfg.Sizes)
	var plans []Plan
	for si, size := range r.cfg.Sizes {
		perMode := split(perSize[si], len(r.cfg.Modes))
		for mi, mode := range r.cfg.Modes {
			c := r.cellFor(size.Name, mode)
			n := perMode[mi]
			points := int(float64(n)*0.35 + 0.5)
			recoveries := 0
			if mode == ModeProtected {
				recoveries = int(float64(n)*0.10 + 0.5)
			}
			offset := 0
			if len(c.Points) > 0 {
				offset = rng.IntN(len(c.Points))
			}
			recoverChoices := append(append([]string(nil), c.RecoverPoints...), "uniform")
			recoverOffset := rng.IntN(len(recoverChoices))
			for i := range n {
				p := Plan{Size: size.Name, Mode: mode}
				switch {
				case i < points && len(c.Points) > 0:
					p.Kind = KillPoint
					p.Point = c.Points[(offset+i)%len(c.Points)]
				case i < points+recoveries:
					p.Kind = KillRecovery
					choice := recoverChoices[(recoverOffset+i)%len(recoverChoices)]
					p.PreState = fmt.Sprintf("after-upload-%d", 1+rng.IntN(max(c.Uploads, 1)))
					if choice == "uniform" {
						p.Fraction = rng.Float64()
						if rng.IntN(3) == 0 {
							p.PreState = "after-commit-1"
						}
					} else {
						p.RecoverPoint = choice
						if strings.Contains(choice, "-"+KindFinalize+"-") && rng.IntN(3) == 0 {
							p.PreState = "after-commit-1"
						}
					}
				default:
					p.Kind = KillUniform
					p.Fraction = rng.Float64()
				}
				plans = append(plans, p)
			}
		}
	}
	// Interleave sizes and modes so that progress and a partial run are
	// representative, keeping the order a function of the seed.
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })
	for i := range plans {
		plans[i].Index = i
	}
	return plans
}

func (r *runner) cellFor(size, mode string) *cell {
	for _, c := range r.cells {
		if c.Size.Name == size && c.Mode == mode {
			return c
		}
	}
	panic("killtest: no cell for " + size + " " + mode) // plan only names measured cells
}

// share divides total over sizes by weight; the remainder goes to the
// largest weights first.
func share(total int, sizes []Size) []int {
	sum := 0
	for _, s := range sizes {
		sum += s.Weight
	}
	out := make([]int, len(sizes))
	given := 0
	for i, s := range sizes {
		out[i] = total * s.Weight / sum
		given += out[i]
	}
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sizes[order[a]].Weight > sizes[order[b]].Weight })
	for i := 0; given < total; i++ {
		out[order[i%len(order)]]++
		given++
	}
	return out
}

func split(total, parts int) []int {
	out := make([]int, parts)
	for i := range out {
		out[i] = total / parts
		if i < total%parts {
			out[i]++
		}
	}
	return out
}

// runAll runs the plans on cfg.Workers workers.
func (r *runner) runAll(ctx context.Context, plans []Plan) []Result {
	results := make([]Result, len(plans))
	next := make(chan int)
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = r.runTrial(ctx, plans[i])
				r.mu.Lock()
				r.finished++
				done := r.finished
				r.mu.Unlock()
				r.logf("trial %d/%d (#%d %s %s %s): %s", done, len(plans), plans[i].Index, plans[i].Size, plans[i].Mode, plans[i].describe(), results[i].summary())
			}
		}()
	}
	for i := range plans {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}
