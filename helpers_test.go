package safewrite_test

import (
	"encoding/json"

	"github.com/parquet-go/parquet-go"
)

func statsRecords(stats string) (int64, bool) {
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if stats == "" || json.Unmarshal([]byte(stats), &s) != nil || s.NumRecords == nil {
		return 0, false
	}
	return *s.NumRecords, true
}

type parquetRow = parquet.Row
