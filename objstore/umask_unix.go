//go:build unix

package objstore

import (
	"sync"
	"syscall"
)

// umask is the process umask, read once. syscall.Umask can only read the
// value by setting it, so it is set back at once.
var umask = sync.OnceValue(func() uint32 {
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	return uint32(old)
})
