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

// TestSlowRate: work slower than one unit a second shows the time per unit,
// and moderate rates keep their fraction ("0 img/s" and "2 img/s" for 0.4 and
// 2.46 img/s before).
func TestSlowRate(t *testing.T) {
	for _, c := range []struct {
		done float64
		secs int
		want string
	}{
		{4, 10, " 2.5 s/img"},
		{64, 26, " 2.46 img/s"},
		{1280, 10, " 128 img/s"},
		{0, 10, " 0 img/s"},
	} {
		var buf bytes.Buffer
		r := New(&buf, "eval", 1000, "img")
		clock := r.start
		r.now = func() time.Time { return clock }
		clock = clock.Add(time.Duration(c.secs) * time.Second)
		r.Update(c.done)
		assert.True(t, strings.HasSuffix(strings.TrimSpace(buf.String()), strings.TrimSpace(c.want)), "%q, want suffix %q", buf.String(), c.want)
	}
}
