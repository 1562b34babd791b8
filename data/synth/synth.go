package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/advbench/advbench/data/cifar"
)

// DefaultSeed is the seed of the built-in dataset.
const DefaultSeed = 1

// ClassNames say what each class of the built-in data is: a soft patch of
// grating at orientation k·10° or its mirror image 180° − k·10° (each with
// probability 1/2), whose colour has hue k·36° (both jittered, so that
// neighbouring classes overlap), over a weaker random background grating.
//
// The classes are closed under the training augmentation (a horizontal flip
// and a shift by at most loader.Pad pixels): a flip maps orientation θ to
// 180° − θ, which is the same class, and a shift moves the patch but keeps
// its orientation and hue. (An earlier version used k·18° over the whole
// half-turn, which a flip mapped onto class 10 − k.)
var ClassNames = [cifar.NumClasses]string{
	"grating ±0° red", "grating ±10° orange", "grating ±20° yellow", "grating ±30° lime", "grating ±40° green",
	"grating ±50° cyan", "grating ±60° azure", "grating ±70° blue", "grating ±80° violet", "grating ±90° magenta",
}

// Config describes one built-in dataset. Zero values mean the documented defaults.
type Config struct {
	Seed   uint64 // 0 means DefaultSeed
	NTrain int    // training records; 0 means 10000
	NTest  int    // test records; 0 means 2000
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.NTrain == 0 {
		c.NTrain = 10000
	}
	if c.NTest == 0 {
		c.NTest = 2000
	}
	return c
}

// Validate reports a negative size.
func (c Config) Validate() error {
	if c.NTrain < 0 || c.NTest < 0 {
		return fmt.Errorf("synth: record counts must be positive (train %d, test %d)", c.NTrain, c.NTest)
	}
	return nil
}

// Split generates the train or test split of the dataset described by c.
// Records are balanced (label i%10) and record i is the same for every size,
// so a smaller dataset is a prefix of a larger one.
func Split(c Config, split cifar.Split) (*cifar.Dataset, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	var n int
	var stream uint64
	switch split {
	case cifar.Train:
		n, stream = c.NTrain, 0
	case cifar.Test:
		n, stream = c.NTest, 1
	default:
		return nil, fmt.Errorf("synth: unknown split %q", split)
	}
	return generate(c.Seed, stream, n), nil
}

func generate(seed, stream uint64, n int) *cifar.Dataset {
	d := &cifar.Dataset{Images: make([]uint8, n*cifar.ImageBytes), Labels: make([]uint8, n)}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				label := i % cifar.NumClasses
				d.Labels[i] = uint8(label)
				rng := rand.New(rand.NewPCG(seed, stream<<40|uint64(i)))
				render(rng, label, d.Images[i*cifar.ImageBytes:(i+1)*cifar.ImageBytes])
			}
		}(w)
	}
	wg.Wait()
	return d
}

// hueRGB returns a saturated colour of hue h (radians) with components in [-1,1].
func hueRGB(h float64) [3]float64 {
	return [3]float64{math.Cos(h), math.Cos(h - 2*math.Pi/3), math.Cos(h + 2*math.Pi/3)}
}

// render draws one image of the given class into dst (CHW bytes).
func render(rng *rand.Rand, label int, dst []uint8) {
	const size = cifar.Width
	uniform := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

	// Class cues, jittered.
	// Orientation k·10° ± 5°, mirrored half the time (see ClassNames).
	theta := float64(label)*math.Pi/18 + uniform(-0.085, 0.085)
	if rng.IntN(2) == 1 {
		theta = math.Pi - theta
	}
	hue := float64(label)*2*math.Pi/10 + uniform(-0.45, 0.45)
	freq := uniform(0.45, 0.95)
	phase := uniform(0, 2*math.Pi)
	contrast := uniform(0.22, 0.40)
	col := hueRGB(hue)

	// Placement.
	cx, cy := uniform(9, 23), uniform(9, 23)
	radius := uniform(6, 11)

	// Background: a weaker grating with random orientation and colour.
	bTheta := uniform(0, math.Pi)
	bFreq := uniform(0.3, 1.1)
	bPhase := uniform(0, 2*math.Pi)
	bCol := hueRGB(uniform(0, 2*math.Pi))
	bContrast := uniform(0.08, 0.22)
	base := [3]float64{uniform(0.40, 0.60), uniform(0.40, 0.60), uniform(0.40, 0.60)}
	noise := uniform(0.04, 0.09)

	ct, st := math.Cos(theta), math.Sin(theta)
	bct, bst := math.Cos(bTheta), math.Sin(bTheta)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			fx, fy := float64(x), float64(y)
			dx, dy := fx-cx, fy-cy
			env := math.Exp(-(dx*dx + dy*dy) / (2 * radius * radius / 2.5))
			g := math.Sin(freq*(fx*ct+fy*st) + phase)
			bg := math.Sin(bFreq*(fx*bct+fy*bst) + bPhase)
			for c := 0; c < cifar.Channels; c++ {
				v := base[c] + bContrast*bg*(0.5+0.5*bCol[c]) + env*contrast*(g+0.9*col[c]) + noise*rng.NormFloat64()
				dst[c*size*size+y*size+x] = toByte(v)
			}
		}
	}
}

func toByte(v float64) uint8 {
	v = math.Round(v * 255)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
