package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/internal/tablecheck"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

// depsCommand installs the Lambda Runtime Interface Emulator and cfn-lint.
const depsCommand = "bash scripts/lambda-deps.sh"

// functionTimeout is AWS_LAMBDA_FUNCTION_TIMEOUT of every emulator run, in
// whole seconds as the emulator reads it.
const functionTimeout = 4

// slowWrite is the input of a write that outlasts functionTimeout: 40
// partitions give 40 data files, and every Put waits putLatency.
const (
	slowPartitions = 40
	putLatency     = "300ms"
)

func missingTool(t *testing.T, what string) {
	t.Helper()
	msg := what + ": run `" + depsCommand + "` first"
	if testenv.InCI() {
		t.Fatalf("%s (CI=true, so this is a failure, not a skip)", msg)
	}
	t.Skip(msg)
}

// rieBinary returns the emulator binary: $SAFEWRITE_RIE, then
// aws-lambda-rie in $(go env GOPATH)/bin, then on PATH.
func rieBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SAFEWRITE_RIE"); bin != "" {
		return bin
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			bin := filepath.Join(dir, "bin", "aws-lambda-rie")
			if _, err := os.Stat(bin); err == nil {
				return bin
			}
		}
	}
	if bin, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return bin
	}
	missingTool(t, "aws-lambda-rie not found in $(go env GOPATH)/bin or on PATH")
	return ""
}

// buildBootstrap builds the handler as the file bootstrap, as for provided.al2023.
func buildBootstrap(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bootstrap: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer collects the emulator's output, which the handler's standard
// output and standard error both go to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// emulator is one running aws-lambda-rie with the bootstrap.
type emulator struct {
	url    string
	output *syncBuffer
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port on 127.0.0.1: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startEmulator runs the bootstrap under the emulator with env added to the
// test's environment, both addresses on 127.0.0.1, and stops it when the
// test ends.
func startEmulator(t *testing.T, rie, bootstrap string, env map[string]string) *emulator {
	t.Helper()
	apiPort, runtimePort := freePort(t), freePort(t)
	for apiPort == runtimePort {
		runtimePort = freePort(t)
	}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(runtimePort),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(functionTimeout))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", rie, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("emulator output:\n%s", out.String())
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(apiPort)
	for i := 0; ; i++ {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		if i == 200 {
			t.Fatalf("emulator did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", output: out}
}

// invocation is the emulator's reply to one invoke.
type invocation struct {
	body     []byte
	timedOut bool
	errMsg   string
	resp     Response
}

func (e *emulator) invoke(t *testing.T, payload any) invocation {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: (functionTimeout + 30) * time.Second}
	res, err := client.Post(e.url, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatalf("invoke %s: %v", e.url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read invoke response: %v", err)
	}
	inv := invocation{body: body}
	if strings.HasPrefix(string(body), "Task timed out") {
		inv.timedOut = true
		return inv
	}
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(body, &fnErr) == nil && fnErr.ErrorType != "" {
		inv.errMsg = fnErr.ErrorMessage
		return inv
	}
	if err := json.Unmarshal(body, &inv.resp); err != nil {
		t.Fatalf("invoke returned %d %q, which is neither a timeout, an error nor a Response: %v", res.StatusCode, body, err)
	}
	return inv
}

// lambdaTable is a table on MinIO with a first version written by the
// test process, and an input object for the handler.
type lambdaTable struct {
	uri    string
	bucket string
	store  objstore.Store
	client *s3.Client
}

const baseRecords = 5

func newLambdaTable(t *testing.T) *lambdaTable {
	t.Helper()
	ctx := context.Background()
	bucket := testenv.NewBucket(t)
	client := testenv.S3Client(t)
	lt := &lambdaTable{uri: "s3://" + bucket + "/tables/events", bucket: bucket, client: client}
	tbl, err := safewrite.Open(ctx, lt.uri, safewrite.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", lt.uri, err)
	}
	if _, err := tbl.AppendReader(ctx, strings.NewReader(csvInput(baseRecords, 1)), "csv",
		safewrite.AppendOptions{PartitionBy: []string{"region"}}); err != nil {
		t.Fatalf("create %s: %v", lt.uri, err)
	}
	lt.store = tbl.Store()
	return lt
}

// putInput uploads a CSV input and returns its s3:// URI.
func (lt *lambdaTable) putInput(t *testing.T, name, content string) string {
	t.Helper()
	_, err := lt.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(lt.bucket), Key: aws.String("in/" + name), Body: strings.NewReader(content),
	})
	if err != nil {
		t.Fatalf("upload input %s: %v", name, err)
	}
	return "s3://" + lt.bucket + "/in/" + name
}

// csvInput has n rows spread over the given number of partitions.
func csvInput(n, partitions int) string {
	var b strings.Builder
	b.WriteString("id,region,amount\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,r%02d,%d.25\n", i, i%partitions, i)
	}
	return b.String()
}

// tableState is what an independent reader sees after an invocation.
type tableState struct {
	version  int64
	records  int64
	strays   []string
	intents  int
	outcomes []*commit.Outcome
}

func (lt *lambdaTable) state(t *testing.T) tableState {
	t.Helper()
	ctx := context.Background()
	checked, err := tablecheck.Read(ctx, lt.store)
	if err != nil {
		t.Fatalf("independent reader of %s: %v", lt.uri, err)
	}
	st := tableState{version: checked.Version, records: checked.Records, strays: checked.Strays, intents: len(checked.Intents)}
	for txnID := range checked.Outcomes {
		out, err := commit.ReadOutcome(ctx, lt.store, txnID)
		if err != nil {
			t.Fatalf("read outcome of %s: %v", txnID, err)
		}
		st.outcomes = append(st.outcomes, out)
	}
	return st
}

// emfLines returns the EMF lines in the emulator output whose event is kind.
func emfLines(output, kind string) []map[string]any {
	var found []map[string]any
	for _, line := range strings.Split(output, "\n") {
		start := strings.Index(line, "{")
		if start < 0 || !strings.Contains(line, `"_aws"`) {
			continue
		}
		var doc map[string]any
		if json.Unmarshal([]byte(line[start:]), &doc) != nil {
			continue
		}
		if doc["event"] == kind {
			found = append(found, doc)
		}
	}
	return found
}

// TestLambdaRuntime runs the bootstrap under the Lambda Runtime Interface
// Emulator against MinIO, with every Put slowed so that a write outlasts the
// function timeout, and checks invariant I6 after each kind of ending.
func TestLambdaRuntime(t *testing.T) {
	testenv.S3Endpoint(t)
	rie := rieBinary(t)
	bootstrap := buildBootstrap(t)

	t.Run("watchdog rolls back before the kill", func(t *testing.T) {
		lt := newLambdaTable(t)
		input := lt.putInput(t, "slow.csv", csvInput(400, slowPartitions))
		emu := startEmulator(t, rie, bootstrap, map[string]string{
			"SAFEWRITE_TABLE":              lt.uri,
			"SAFEWRITE_MARGIN":             "2s",
			"SAFEWRITE_GRACE":              "1s",
			"SAFEWRITE_TEST_STORE_LATENCY": putLatency,
		})
		inv := emu.invoke(t, Request{Inputs: []string{input}, TargetFileSize: 1024})
		if inv.timedOut {
			t.Fatalf("the emulator killed the function before the watchdog rolled back: %s", inv.body)
		}
		if !strings.Contains(inv.errMsg, "rolled back") || !strings.Contains(inv.errMsg, "watchdog fired") {
			t.Errorf("function error %q, want a watchdog rollback", inv.errMsg)
		}
		st := lt.state(t)
		checkUnchanged(t, st)
		if len(st.outcomes) != 1 {
			t.Fatalf("%d outcome records, want 1", len(st.outcomes))
		}
		if out := st.outcomes[0]; out.Outcome != "rolled-back" || out.Reason != "deadline" {
			t.Errorf("outcome record says %s with reason %s, want rolled-back with reason deadline", out.Outcome, out.Reason)
		}
		rollbacks := emfLines(emu.output.String(), string(commit.EventRollback))
		if len(rollbacks) != 1 {
			t.Fatalf("%d EMF rollback lines in the emulator output, want 1", len(rollbacks))
		}
		if rollbacks[0]["reason"] != "deadline" || rollbacks[0]["Rollbacks"] != 1.0 {
			t.Errorf("EMF rollback line %v, want reason deadline and Rollbacks 1", rollbacks[0])
		}
	})

	t.Run("recovery settles a killed write", func(t *testing.T) {
		lt := newLambdaTable(t)
		input := lt.putInput(t, "slow.csv", csvInput(400, slowPartitions))
		emu := startEmulator(t, rie, bootstrap, map[string]string{
			"SAFEWRITE_TABLE":              lt.uri,
			"SAFEWRITE_WATCHDOG":           "off",
			"SAFEWRITE_GRACE":              "1s",
			"SAFEWRITE_TEST_STORE_LATENCY": putLatency,
		})
		inv := emu.invoke(t, Request{Inputs: []string{input}, TargetFileSize: 1024})
		if !inv.timedOut {
			t.Fatalf("invocation ended with %q, want the emulator's timeout kill", inv.body)
		}
		killed := lt.state(t)
		if killed.intents != 1 {
			// NOTE: the context deadline and the emulator's kill fall on
			// the same instant, so a rollback may finish in between.
			t.Logf("%d intents after the kill: the write's own rollback finished before the kill", killed.intents)
		}
		waitPastIntentDeadlines(t, lt.store, time.Second)

		inv = emu.invoke(t, Request{Action: "recover"})
		if inv.timedOut || inv.errMsg != "" {
			t.Fatalf("recover invocation failed: %s", inv.body)
		}
		if r := inv.resp.Recovery; r == nil || r.RolledBack != killed.intents {
			t.Errorf("recovery report %+v, want %d transactions rolled back", inv.resp.Recovery, killed.intents)
		}
		st := lt.state(t)
		checkUnchanged(t, st)
		if len(st.outcomes) != 1 || st.outcomes[0].Reason != "expired" {
			t.Errorf("outcome records %+v, want one with reason expired", st.outcomes)
		}
		if lines := emfLines(emu.output.String(), string(commit.EventRollback)); len(lines) != 1 || lines[0]["RecoveredTransactions"] != 1.0 {
			t.Errorf("EMF rollback lines %v, want one with RecoveredTransactions 1", lines)
		}
	})

	t.Run("retry after a kill past the commit adds no rows", func(t *testing.T) {
		lt := newLambdaTable(t)
		input := lt.putInput(t, "small.csv", csvInput(7, 1))
		// The finalize step deletes the intent; a long Delete makes the
		// emulator kill the function after its commit.
		emu := startEmulator(t, rie, bootstrap, map[string]string{
			"SAFEWRITE_TABLE": lt.uri,
			// The retry's recovery must leave the killed invocation's
			// intent alone, because deleting it would wait again.
			"SAFEWRITE_GRACE":                     "60s",
			"SAFEWRITE_MARGIN":                    "1s",
			"SAFEWRITE_TEST_STORE_DELETE_LATENCY": "30s",
		})
		req := Request{Inputs: []string{input}, IdempotencyKey: "lambda-test:7"}
		inv := emu.invoke(t, req)
		if !inv.timedOut {
			t.Fatalf("first invocation ended with %q, want the emulator's timeout kill during finalize", inv.body)
		}
		committed := lt.state(t)
		if committed.records != baseRecords+7 {
			t.Fatalf("table has %d records after the killed invocation, want %d: the commit did not land", committed.records, baseRecords+7)
		}

		inv = emu.invoke(t, req)
		if inv.timedOut || inv.errMsg != "" {
			t.Fatalf("retried invocation failed: %s", inv.body)
		}
		if len(inv.resp.Appends) != 1 || !inv.resp.Appends[0].AlreadyApplied {
			t.Errorf("retried invocation returned %+v, want one append already applied", inv.resp.Appends)
		}
		st := lt.state(t)
		if st.records != committed.records || st.version != committed.version {
			t.Errorf("retry changed the table from version %d with %d records to version %d with %d records",
				committed.version, committed.records, st.version, st.records)
		}
	})
}

// checkUnchanged checks the end state of a rolled-back write (I6): the
// first version's rows only, no staged object and no intent.
func checkUnchanged(t *testing.T, st tableState) {
	t.Helper()
	if st.version != 0 || st.records != baseRecords {
		t.Errorf("table at version %d with %d records, want version 0 with %d", st.version, st.records, baseRecords)
	}
	if len(st.strays) > 0 {
		t.Errorf("staged objects left: %v", st.strays)
	}
	if st.intents != 0 {
		t.Errorf("%d intents left", st.intents)
	}
}

// waitPastIntentDeadlines sleeps until every intent's deadline plus grace
// has passed, as recovery requires (I2).
func waitPastIntentDeadlines(t *testing.T, store objstore.Store, grace time.Duration) {
	t.Helper()
	intents, bad, err := commit.ListIntents(context.Background(), store)
	if err != nil || len(bad) > 0 {
		t.Fatalf("list intents: %v %v", err, bad)
	}
	var latest time.Time
	for _, in := range intents {
		if in.Deadline.After(latest) {
			latest = in.Deadline
		}
	}
	time.Sleep(time.Until(latest.Add(grace + 200*time.Millisecond)))
}
