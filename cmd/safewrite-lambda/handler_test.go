package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/safewrite/safewrite/internal/testenv"
)

func s3Record(key, versionID, etag string) events.S3EventRecord {
	var rec events.S3EventRecord
	rec.EventSource = "aws:s3"
	rec.EventName = "ObjectCreated:Put"
	rec.S3.Bucket.Name = "in-bucket"
	rec.S3.Object.URLDecodedKey = key
	rec.S3.Object.VersionID = versionID
	rec.S3.Object.ETag = etag
	return rec
}

func TestS3ObjectKey(t *testing.T) {
	cases := []struct {
		name      string
		rec       events.S3EventRecord
		wantAppID string
		wantErr   bool
	}{
		{"versioned bucket uses the version id", s3Record("in/a b.csv", "v7", `"e1"`), "s3:in-bucket/in/a b.csv@v7", false},
		{"unversioned bucket uses the etag", s3Record("in/a.csv", "", `"e1"`), "s3:in-bucket/in/a.csv@etag:e1", false},
		{"neither version id nor etag", s3Record("in/a.csv", "", ""), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := s3ObjectKey(tc.rec)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got key %+v, want an error", key)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key.AppID != tc.wantAppID || key.Version != 0 {
				t.Errorf("key %s:%d, want %s:0", key.AppID, key.Version, tc.wantAppID)
			}
		})
	}
	t.Run("overwrite gets a new app id", func(t *testing.T) {
		first, _ := s3ObjectKey(s3Record("in/a.csv", "v1", ""))
		second, _ := s3ObjectKey(s3Record("in/a.csv", "v2", ""))
		if first.AppID == second.AppID {
			t.Errorf("two object versions share app id %s, so the second would be skipped", first.AppID)
		}
	})
}

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, cfg config)
	}{
		{"defaults", map[string]string{}, "", func(t *testing.T, cfg config) {
			if !cfg.watchdog || cfg.margin != 2*time.Second || cfg.grace != 0 {
				t.Errorf("config %+v, want watchdog on, margin 2s, default grace", cfg)
			}
		}},
		{"all set", map[string]string{
			"SAFEWRITE_TABLE": "s3://b/t", "SAFEWRITE_MARGIN": "5s", "SAFEWRITE_WATCHDOG": "off",
			"SAFEWRITE_GRACE": "1s", "SAFEWRITE_PARTITION_BY": "a, b", "SAFEWRITE_SAFETY_FACTOR": "3",
		}, "", func(t *testing.T, cfg config) {
			if cfg.table != "s3://b/t" || cfg.margin != 5*time.Second || cfg.watchdog || cfg.grace != time.Second ||
				strings.Join(cfg.partitionBy, "|") != "a|b" || cfg.safetyFactor != 3 {
				t.Errorf("config %+v does not match the environment", cfg)
			}
		}},
		{"invalid margin", map[string]string{"SAFEWRITE_MARGIN": "5"}, "SAFEWRITE_MARGIN", nil},
		{"invalid watchdog switch", map[string]string{"SAFEWRITE_WATCHDOG": "maybe"}, "SAFEWRITE_WATCHDOG", nil},
		{"safety factor below one", map[string]string{"SAFEWRITE_SAFETY_FACTOR": "0.5"}, "SAFEWRITE_SAFETY_FACTOR", nil},
		{"invalid input format", map[string]string{"SAFEWRITE_INPUT_FORMAT": "xml"}, "SAFEWRITE_INPUT_FORMAT", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

// TestDeployTemplateLints runs cfn-lint on deploy/template.yaml.
func TestDeployTemplateLints(t *testing.T) {
	bin := os.Getenv("SAFEWRITE_CFN_LINT")
	if bin == "" {
		cache := os.Getenv("SAFEWRITE_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "safewrite")
		}
		bin = filepath.Join(cache, "cfn-lint", "bin", "cfn-lint")
	}
	if _, err := os.Stat(bin); err != nil {
		found, lookErr := exec.LookPath("cfn-lint")
		if lookErr != nil {
			if testenv.InCI() {
				t.Fatalf("cfn-lint not found at %s or on PATH: run `%s` first (CI=true, so this is a failure, not a skip)", bin, depsCommand)
			}
			t.Skipf("cfn-lint not found at %s or on PATH: run `%s` first", bin, depsCommand)
		}
		bin = found
	}
	out, err := exec.Command(bin, filepath.Join("..", "..", "deploy", "template.yaml")).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint found problems in deploy/template.yaml: %v\n%s", err, out)
	}
}
