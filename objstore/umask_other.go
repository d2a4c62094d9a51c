//go:build !unix

package objstore

func umask() uint32 { return 0o022 }
