package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/format"
)

// handleS3Event appends every object an S3 event notification created to
// SAFEWRITE_TABLE, one transaction per object, so that a redelivered event
// skips the objects already appended and retries only the rest.
func (h *handler) handleS3Event(ctx context.Context, ev events.S3Event) (*Response, error) {
	if h.cfg.table == "" {
		return nil, fmt.Errorf("missing SAFEWRITE_TABLE: S3 events are appended to the table it names")
	}
	table, err := h.openTable(ctx, h.cfg.table)
	if err != nil {
		return nil, err
	}
	resp := &Response{Table: table.URI()}
	tableBucket, tablePrefix := splitS3URI(table.URI())
	for _, rec := range ev.Records {
		bucket, key := rec.S3.Bucket.Name, rec.S3.Object.URLDecodedKey
		uri := "s3://" + bucket + "/" + key
		switch {
		case !strings.HasPrefix(rec.EventName, "ObjectCreated:"):
			resp.Skipped = append(resp.Skipped, uri+": event "+rec.EventName+" creates no object")
			continue
		case key == "" || strings.HasSuffix(key, "/"):
			resp.Skipped = append(resp.Skipped, uri+": a folder marker, not a file")
			continue
		case bucket == tableBucket && (tablePrefix == "" || strings.HasPrefix(key, tablePrefix+"/")):
			// The table's own data files and logs would otherwise trigger
			// appends of the table into itself.
			resp.Skipped = append(resp.Skipped, uri+": inside the table root")
			continue
		}
		idempotency, err := s3ObjectKey(rec)
		if err != nil {
			return resp, err
		}
		summary, err := h.appendGuarded(ctx, table, []string{uri}, safewrite.AppendOptions{
			PartitionBy:    h.cfg.partitionBy,
			InputFormat:    h.cfg.inputFormat,
			IdempotencyKey: idempotency,
		})
		if err != nil {
			return resp, fmt.Errorf("append %s to %s: %w", uri, table.URI(), err)
		}
		resp.Appends = append(resp.Appends, summary)
	}
	return resp, nil
}

// s3ObjectKey returns the idempotency key of one created object version.
//
// A Delta txn action records one version per appId, and a request whose
// version is not greater than the recorded one is skipped, so versions must
// grow with every new object under one appId. Neither candidate field
// grows safely as an int64: the sequencer is a hex string that S3 orders
// only among events of one key and that can be longer than 16 digits, and
// a hash of the ETag is not ordered at all, so an overwrite whose hash is
// smaller would be skipped as already applied. The key therefore names the
// object version itself in the appId ("s3:bucket/key@versionId", or
// "@etag:ETag" in a bucket without versioning) with version 0: a
// redelivered event matches exactly, and an overwrite is a new appId.
// The cost is one txn entry per appended object in the table's state.
//
// NOTE: without versioning, re-uploading identical bytes to the same key
// gives the same ETag, so that upload is skipped as already applied.
func s3ObjectKey(rec events.S3EventRecord) (*format.IdempotencyKey, error) {
	obj := rec.S3.Object
	appID := "s3:" + rec.S3.Bucket.Name + "/" + obj.URLDecodedKey
	switch {
	case obj.VersionID != "":
		appID += "@" + obj.VersionID
	case obj.ETag != "":
		appID += "@etag:" + strings.Trim(obj.ETag, `"`)
	default:
		return nil, fmt.Errorf("S3 event record for s3://%s/%s has neither versionId nor eTag: cannot make a retry-safe idempotency key",
			rec.S3.Bucket.Name, obj.URLDecodedKey)
	}
	return &format.IdempotencyKey{AppID: appID, Version: 0}, nil
}

// splitS3URI returns the bucket and prefix (no slashes at either end) of
// an s3:// URI, or two empty strings for another scheme.
func splitS3URI(uri string) (string, string) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "s3a") {
		return "", ""
	}
	return u.Host, strings.Trim(u.Path, "/")
}
