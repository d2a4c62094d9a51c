package killtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is one writer or recoverer process in its own process group, so
// that SIGKILL reaches everything it started.
type child struct {
	cmd    *exec.Cmd
	start  time.Time
	lines  chan string
	done   chan error
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 64<<10 {
		return len(p), nil // keep the first 64 KiB, enough to explain a failure
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// startChild starts bin with args; env entries are added to the parent's
// environment. Standard output is delivered line by line on lines.
func startChild(bin string, args, env []string) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, lines: make(chan string, 64), done: make(chan error, 1), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", bin, strings.Join(args, " "), err)
	}
	c.start = time.Now()
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			c.lines <- scanner.Text()
		}
		close(c.lines)
		c.done <- cmd.Wait()
	}()
	return c, nil
}

// kill sends SIGKILL to the child's process group and waits for it to end.
func (c *child) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	for range c.lines {
	}
	<-c.done
}

// waitFor reads lines until want appears (true), the child exits (false,
// with its exit error), or ctx ends.
func (c *child) waitFor(ctx context.Context, want string) (bool, error) {
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return false, <-c.done
			}
			if line == want {
				return true, nil
			}
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// waitOrKillAfter kills the child after delay unless it exits first.
// It returns whether the kill happened and, when it did not, the exit error.
func (c *child) waitOrKillAfter(delay time.Duration) (bool, error) {
	timer := time.NewTimer(delay - time.Since(c.start))
	defer timer.Stop()
	for {
		select {
		case _, ok := <-c.lines:
			if !ok {
				return false, <-c.done
			}
		case <-timer.C:
			c.kill()
			return true, nil
		}
	}
}

// runChild runs bin to the end and returns its standard output, or an
// error that quotes its standard error.
func runChild(ctx context.Context, bin string, args []string, env ...string) (string, time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.String(), elapsed, fmt.Errorf("%s %s failed with exit code %d: %s", bin, strings.Join(args, " "), exit.ExitCode(), strings.TrimSpace(stderr.String()))
		}
		return stdout.String(), elapsed, fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return stdout.String(), elapsed, nil
}
