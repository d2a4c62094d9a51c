package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultPartSize is the multipart upload part size of S3.Put. The uploader
// buffers at most Concurrency parts of this size per Put.
const DefaultPartSize = 8 << 20

// defaultRegion is used when neither the environment nor the shared config
// names a region. A bucket in another region needs AWS_REGION, because
// requests are signed for one region.
const defaultRegion = "us-east-1"

// maxDeleteBatch is the max number of keys in one DeleteObjects request.
const maxDeleteBatch = 1000

// S3Options tunes NewS3. The zero value loads the default AWS configuration.
type S3Options struct {
	// AWSConfig replaces config.LoadDefaultConfig when set.
	AWSConfig *aws.Config
	// PathStyle forces path-style addressing (http://host/bucket/key). It is
	// also turned on whenever an endpoint override is configured
	// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or aws.Config.BaseEndpoint),
	// because S3-compatible servers such as MinIO expect it.
	PathStyle bool
	// PartSize is the multipart part size of Put in bytes. Zero means
	// DefaultPartSize. S3 requires at least 5 MiB.
	PartSize int64
	// Concurrency is the number of parts Put uploads at once. Zero means
	// the SDK uploader's default (5 in feature/s3/manager v1.23).
	Concurrency int
}

// S3 is a Store under one prefix of one S3 bucket.
type S3 struct {
	client   *s3.Client
	uploader *manager.Uploader
	bucket   string
	prefix   string // no leading or trailing slash; "" for the bucket root
	retryer  *retry.Standard
}

// NewS3 returns a Store for s3://bucket/prefix. Credentials and region come
// from the default AWS chain (environment, shared config, web identity,
// container and instance roles); the region defaults to us-east-1. The
// endpoint override AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is read by the
// SDK itself. NewS3 sends no request, so a missing bucket shows up on the
// first operation as an error wrapping ErrNotFound.
func NewS3(ctx context.Context, bucket, prefix string, opts S3Options) (*S3, error) {
	if bucket == "" || strings.ContainsAny(bucket, "/\\") {
		return nil, fmt.Errorf("%w: invalid S3 bucket name %q", ErrInvalidKey, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := validatePath(prefix); err != nil {
			return nil, fmt.Errorf("S3 prefix of s3://%s/%s: %w", bucket, prefix, err)
		}
	}
	var cfg aws.Config
	if opts.AWSConfig != nil {
		cfg = opts.AWSConfig.Copy()
	} else {
		loaded, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration for s3://%s: %w", bucket, err)
		}
		cfg = loaded
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// BaseEndpoint is already resolved from the environment here.
		if opts.PathStyle || o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		// A ranged GetObject never carries a whole-object checksum, so the
		// SDK's "validation skipped" log lines would come on every read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	partSize := opts.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	uploader := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = partSize
		if opts.Concurrency > 0 {
			u.Concurrency = opts.Concurrency
		}
	})
	return &S3{
		client:   client,
		uploader: uploader,
		bucket:   bucket,
		prefix:   prefix,
		retryer:  retry.NewStandard(),
	}, nil
}

// Client returns the underlying S3 client.
func (s *S3) Client() *s3.Client { return s.client }

// Bucket returns the bucket name.
func (s *S3) Bucket() string { return s.bucket }

// Prefix returns the key prefix of the store root, without slashes at
// either end.
func (s *S3) Prefix() string { return s.prefix }

// URI returns s3://bucket/prefix.
func (s *S3) URI() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + s.prefix
}

func (s *S3) objectKey(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

func (s *S3) objectURI(key string) string {
	return "s3://" + s.bucket + "/" + s.objectKey(key)
}

// Put uploads the object with the SDK's upload manager: one PutObject for a
// body up to PartSize, a multipart upload above it. S3 makes the object
// visible only when the upload completes.
func (s *S3) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.objectKey(key)),
		Body:   body,
	}
	if size >= 0 && size <= s.uploader.PartSize {
		in.ContentLength = aws.Int64(size)
	}
	if _, err := s.uploader.Upload(ctx, in); err != nil {
		return s.wrapWriteErr("put", key, err, false)
	}
	return nil
}

// maxConflictRetries bounds the retries of PutIfAbsent on 409
// ConditionalRequestConflict, which S3 returns while another conditional
// write of the same key is in flight.
const maxConflictRetries = 4

// maxPutIfAbsentAttempts bounds the attempts of PutIfAbsent on retryable
// errors (5xx, throttling, connection errors).
const maxPutIfAbsentAttempts = 4

// PutIfAbsent writes data with If-None-Match: *. It retries transient
// errors itself instead of through the SDK, so that it can track whether an
// earlier attempt may have landed. A 412 after such an attempt may be this
// writer's own object, so it returns ErrUnknownOutcome, not ErrAlreadyExists.
func (s *S3) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	mayHaveLanded := false
	conflicts := 0
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			if mayHaveLanded {
				return fmt.Errorf("put-if-absent %s: %w: gave up after %v following an attempt that may have been applied", s.objectURI(key), ErrUnknownOutcome, err)
			}
			return fmt.Errorf("put-if-absent %s: %w", s.objectURI(key), err)
		}
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(s.objectKey(key)),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
			IfNoneMatch:   aws.String("*"),
		}, func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
		if err == nil {
			return nil
		}
		lastErr = err
		code := apiErrorCode(err)
		switch {
		case code == "PreconditionFailed" || httpStatus(err) == 412:
			if mayHaveLanded {
				return fmt.Errorf("put-if-absent %s: %w: the key exists, and an earlier attempt of this call may have written it (%v)", s.objectURI(key), ErrUnknownOutcome, err)
			}
			return fmt.Errorf("put-if-absent %s: %w", s.objectURI(key), ErrAlreadyExists)
		case code == "ConditionalRequestConflict" || httpStatus(err) == 409:
			conflicts++
			if conflicts > maxConflictRetries {
				// Another writer kept a conditional write of this key in
				// flight; it most likely wins.
				if mayHaveLanded {
					return fmt.Errorf("put-if-absent %s: %w: %d conflicting concurrent writes (%v)", s.objectURI(key), ErrUnknownOutcome, conflicts, err)
				}
				return fmt.Errorf("put-if-absent %s: %w: %d conflicting concurrent writes (%v)", s.objectURI(key), ErrAlreadyExists, conflicts, err)
			}
		case s.retryer.IsErrorRetryable(err) && attempt < maxPutIfAbsentAttempts:
			if mayHaveApplied(err) {
				mayHaveLanded = true
			}
		default:
			return s.wrapWriteErr("put-if-absent", key, err, mayHaveLanded)
		}
		delay, derr := s.retryer.RetryDelay(attempt, err)
		if derr != nil {
			delay = time.Duration(attempt) * 100 * time.Millisecond
		}
		if err := sleepCtx(ctx, delay); err != nil {
			stopped := fmt.Errorf("%w (retry stopped: %v)", lastErr, err)
			return s.wrapWriteErr("put-if-absent", key, stopped, mayHaveLanded)
		}
	}
}

// wrapWriteErr wraps a failed write. When this request may have reached the
// server, or an earlier attempt may have (earlierMayHaveLanded), the error
// also wraps ErrUnknownOutcome.
func (s *S3) wrapWriteErr(op, key string, err error, earlierMayHaveLanded bool) error {
	if earlierMayHaveLanded || mayHaveApplied(err) {
		return fmt.Errorf("%s %s: %w: %w", op, s.objectURI(key), ErrUnknownOutcome, s.wrapErr(err))
	}
	return fmt.Errorf("%s %s: %w", op, s.objectURI(key), s.wrapErr(err))
}

// wrapErr maps S3 error codes to the package sentinels.
func (s *S3) wrapErr(err error) error {
	switch apiErrorCode(err) {
	case "NoSuchBucket":
		return fmt.Errorf("bucket %s does not exist: create it or check the table URI: %w: %w", s.bucket, ErrNotFound, err)
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if httpStatus(err) == 404 {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// mayHaveApplied reports whether a failed request may have been applied by
// the server: a 5xx response, a connection that broke after it was
// established, or a timeout or cancellation while the request was in flight.
// A 4xx response and a failed dial mean it was not applied.
func mayHaveApplied(err error) bool {
	if status := httpStatus(err); status != 0 {
		return status >= 500
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return true
	}
	var cancelErr *smithy.CanceledError
	if errors.As(err, &cancelErr) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Get opens the whole object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes from offset with a Range request. An offset
// at or past the end gives an empty body, as on the local store.
func (s *S3) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 || length < -1 {
		return nil, fmt.Errorf("get %s: invalid range offset %d length %d", s.objectURI(key), offset, length)
	}
	if length == 0 {
		// A zero-length range cannot be expressed as a Range header; stat
		// the key so that a missing object is still reported.
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if apiErrorCode(err) == "InvalidRange" || httpStatus(err) == 416 {
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, fmt.Errorf("get %s: %w", s.objectURI(key), s.wrapErr(err))
	}
	return out.Body, nil
}

// Stat returns the object's size and modification time.
//
// NOTE: HeadObject returns a bare 404 for a missing bucket too, so Stat
// reports a missing bucket as a missing key.
func (s *S3) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %s: %w", s.objectURI(key), s.wrapErr(err))
	}
	return ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// List pages through ListObjectsV2, with Delimiter "/" when not recursive so
// that objects in sub-folders are left out.
func (s *S3) List(ctx context.Context, prefix string, recursive bool) ([]ObjectInfo, error) {
	if err := validatePrefix(prefix, recursive); err != nil {
		return nil, err
	}
	root := ""
	if s.prefix != "" {
		root = s.prefix + "/"
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(root + prefix)}
	if !recursive {
		in.Delimiter = aws.String("/")
	}
	var out []ObjectInfo
	pager := s3.NewListObjectsV2Paginator(s.client, in)
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.bucket, root+prefix, s.wrapErr(err))
		}
		for _, obj := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(obj.Key), root)
			if strings.HasSuffix(key, "/") {
				continue // a folder marker made by a console, not an object
			}
			out = append(out, ObjectInfo{Key: key, Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)})
		}
	}
	return out, nil
}

// Delete removes the keys with DeleteObjects, up to 1000 keys a request.
// It sends every batch and returns the errors of the keys S3 did not delete.
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := ValidateKey(key); err != nil {
			return err
		}
	}
	var errs []error
	for start := 0; start < len(keys); start += maxDeleteBatch {
		batch := keys[start:min(start+maxDeleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, key := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.objectKey(key))}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %d keys from %s (first %s): %w", len(batch), s.URI(), batch[0], s.wrapErr(err)))
			continue
		}
		for _, e := range out.Errors {
			errs = append(errs, fmt.Errorf("delete s3://%s/%s: %s: %s", s.bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	return errors.Join(errs...)
}
