package textfmt

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestShortHash(t *testing.T) {
	assert.Equal(t, "e3b0c44298fc", ShortHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
	assert.Equal(t, "abc", ShortHash("abc"))
	assert.Equal(t, "0123456789ab", ShortHash("0123456789ab"))
	assert.Equal(t, "", ShortHash(""))
}

func TestJoinSeeds(t *testing.T) {
	assert.Equal(t, "1,2,3", JoinSeeds([]uint64{1, 2, 3}))
	assert.Equal(t, "18446744073709551615", JoinSeeds([]uint64{1<<64 - 1}))
	assert.Equal(t, "", JoinSeeds(nil))
}
