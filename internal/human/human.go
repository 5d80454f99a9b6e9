// Package human formats numbers for people: 1.2K, 3.40M, 2.00B.
package human

import "fmt"

// Count formats n with a K, M or B suffix (thousands, millions, billions).
func Count(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.2fB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.2fM", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1fK", f/1e3)
	}
	return fmt.Sprint(n)
}
