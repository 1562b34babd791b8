package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPlainLinesRateLimited(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "download", 4<<20, "B")
	clock := r.start
	r.now = func() time.Time { return clock }
	clock = clock.Add(11 * time.Second)
	r.Update(1 << 20)
	clock = clock.Add(time.Second) // within the 10 s period: not shown
	r.Update(2 << 20)
	clock = clock.Add(time.Second)
	r.Done(4 << 20)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Len(t, lines, 2)
	assert.Contains(t, lines[0], "download: 1.0 MiB / 4.0 MiB (25%) ETA 33s")
	assert.Contains(t, lines[1], "4.0 MiB / 4.0 MiB (100%)")
	assert.NotContains(t, buf.String(), "\r", "no terminal control codes in plain mode")
}

// TestDoneDoesNotRepeat: when the last plain line already shows the final
// amount, Done adds no second identical line.
func TestDoneDoesNotRepeat(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "eval", 256, "img")
	clock := r.start
	r.now = func() time.Time { return clock }
	clock = clock.Add(11 * time.Second)
	r.Update(256)
	r.Done(256)
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"), buf.String())
	assert.Contains(t, buf.String(), "256 img / 256 img (100%)")
}
