package objstore

import (
	"fmt"
	"strings"
)

// ValidateKey returns an error wrapping ErrInvalidKey unless key is a
// relative slash-separated path with no empty, "." or ".." segment and no
// backslash, so that it cannot name anything outside the store root.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if strings.HasSuffix(key, "/") {
		return fmt.Errorf("%w: key %q ends in a slash: name an object, not a folder", ErrInvalidKey, key)
	}
	return validatePath(key)
}

// validatePrefix checks a List prefix: "" (the whole store) or a key-like
// path, which may end in "/".
func validatePrefix(prefix string, recursive bool) error {
	if prefix == "" {
		return nil
	}
	if !recursive && !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("%w: non-recursive list prefix %q must be empty or end in a slash", ErrInvalidKey, prefix)
	}
	return validatePath(strings.TrimSuffix(prefix, "/"))
}

func validatePath(p string) error {
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: key %q is absolute: keys are relative to the store root", ErrInvalidKey, p)
	}
	if strings.Contains(p, `\`) {
		return fmt.Errorf("%w: key %q contains a backslash: use slashes between folders", ErrInvalidKey, p)
	}
	if strings.ContainsRune(p, 0) {
		return fmt.Errorf("%w: key %q contains a NUL byte", ErrInvalidKey, p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: key %q has an empty segment (\"//\")", ErrInvalidKey, p)
		case ".", "..":
			return fmt.Errorf("%w: key %q has a %q segment: keys cannot leave or alias the store root", ErrInvalidKey, p, seg)
		}
	}
	return nil
}
