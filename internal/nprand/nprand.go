// Package nprand reproduces, bit for bit, the part of numpy's legacy
// random API that the reference code's train/validation split uses:
// np.random.seed(s) followed by np.random.shuffle(list). That is the
// Mersenne Twister MT19937 (Matsumoto & Nishimura, "Mersenne Twister: a
// 623-dimensionally equidistributed uniform pseudo-random number
// generator", ACM TOMACS 8(1), 1998) seeded with init_genrand, numpy's
// bounded draw random_interval (masked rejection sampling), and the
// Fisher-Yates shuffle of numpy.random.RandomState.shuffle.
//
// scripts/make_split_fixture.py writes the values numpy computes
// (testdata/numpy_split.json), which the tests compare with.
package nprand

import "fmt"

const (
	n         = 624
	m         = 397
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

// MT19937 is numpy's legacy RandomState generator. The zero value is not
// usable: make one with New.
type MT19937 struct {
	key [n]uint32
	pos int
}

// New returns the generator np.random.seed(seed) (or
// np.random.RandomState(seed)) makes: MT19937 seeded with init_genrand. The
// seed must fit in 32 bits, as numpy requires.
func New(seed uint64) (*MT19937, error) {
	if seed > 0xffffffff {
		return nil, fmt.Errorf("nprand: seed %d: numpy's legacy seeding takes 0..2^32-1", seed)
	}
	r := &MT19937{pos: n}
	s := uint32(seed)
	for i := 0; i < n; i++ {
		r.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	return r, nil
}

// generate refills the state (genrand's twist).
func (r *MT19937) generate() {
	for i := 0; i < n; i++ {
		y := r.key[i]&upperMask | r.key[(i+1)%n]&lowerMask
		v := r.key[(i+m)%n] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		r.key[i] = v
	}
	r.pos = 0
}

// Uint32 returns the next 32-bit output (genrand_int32, tempered).
func (r *MT19937) Uint32() uint32 {
	if r.pos == n {
		r.generate()
	}
	y := r.key[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Interval returns a uniform integer in [0, max], as numpy's legacy
// random_interval: draws masked to the smallest all-ones mask covering max,
// rejected until they do not exceed it. Only the 32-bit branch is
// implemented (max < 2^32), which covers every dataset size.
func (r *MT19937) Interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := r.Uint32() & mask; v <= max {
			return v
		}
	}
}

// Shuffle permutes x in place as numpy.random.RandomState.shuffle does:
// for i from len(x)-1 down to 1, swap x[i] with x[Interval(i)].
func (r *MT19937) Shuffle(x []int) {
	for i := len(x) - 1; i > 0; i-- {
		j := r.Interval(uint32(i))
		x[i], x[j] = x[j], x[i]
	}
}

// ShuffledRange returns the list np.random.seed(seed);
// l = list(range(count)); np.random.shuffle(l) leaves in l.
func ShuffledRange(seed uint64, count int) ([]int, error) {
	if count < 0 || uint64(count) > 0xffffffff {
		return nil, fmt.Errorf("nprand: cannot shuffle %d items", count)
	}
	r, err := New(seed)
	if err != nil {
		return nil, err
	}
	x := make([]int, count)
	for i := range x {
		x[i] = i
	}
	r.Shuffle(x)
	return x, nil
}
