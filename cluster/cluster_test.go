package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/study"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func plan() study.Plan {
	return study.Plan{Preset: "quick", Norms: []string{"bn", "modenorm", "auxbn", "saauxbn"}, Seeds: []uint64{1, 2, 3}}
}

// TestKubernetesJob: the manifest decodes strictly into a batch/v1 Job
// with an Indexed completion per cell, per-index retries, requests from
// the preset's measured cost and the results claim mounted.
func TestKubernetesJob(t *testing.T) {
	job, err := Kubernetes(plan(), Options{Image: "registry.example/advbench:0.1", Results: "advbench-pvc", DataPath: "/results/cifar10", Parallelism: 4})
	require.NoError(t, err)
	raw, err := KubernetesYAML(job)
	require.NoError(t, err)
	var back batchv1.Job
	require.NoError(t, yaml.UnmarshalStrict(raw, &back), string(raw))
	assert.Equal(t, "batch/v1", back.APIVersion)
	assert.Equal(t, "Job", back.Kind)
	assert.Equal(t, "advbench-quick", back.Name)
	s := back.Spec
	require.NotNil(t, s.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *s.CompletionMode)
	assert.Equal(t, int32(12), *s.Completions, "4 norms x 3 seeds")
	assert.Equal(t, int32(4), *s.Parallelism)
	assert.Equal(t, int32(3), *s.BackoffLimitPerIndex)
	pod := s.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	c := pod.Containers[0]
	assert.Equal(t, "registry.example/advbench:0.1", c.Image)
	assert.Equal(t, []string{"/advbench", "reproduce", "--cell", "auto", "--preset", "quick", "--norms", "bn,modenorm,auxbn,saauxbn", "--seeds", "1,2,3", "--out", "/results/advbench-quick", "--data", "/results/cifar10"}, c.Command)
	assert.Equal(t, "2", c.Resources.Requests.Cpu().String())
	assert.Equal(t, "1Gi", c.Resources.Requests.Memory().String())
	assert.Equal(t, "/results", c.VolumeMounts[0].MountPath)
	assert.Equal(t, "advbench-pvc", pod.Volumes[0].PersistentVolumeClaim.ClaimName)

	for _, c := range []struct {
		o    Options
		want []string
	}{{Options{Results: "pvc"}, []string{"Image"}}, {Options{Image: "img"}, []string{"Results"}}, {Options{}, []string{"Image", "Results"}}} {
		_, err = Kubernetes(plan(), c.o)
		var m *MissingError
		require.ErrorAs(t, err, &m)
		assert.Equal(t, MissingError{Target: "Kubernetes", Missing: c.want}, *m)
		assert.NotContains(t, err.Error(), "--", "no flag named: the command line adds its hint")
	}
	assert.EqualError(t, err, "cluster: a Kubernetes plan needs a container image (Options.Image) and a results location (Options.Results)")
}

// TestSlurmScript: the sbatch script is valid bash and names the array
// range, the resources and the command.
func TestSlurmScript(t *testing.T) {
	_, err := Slurm(plan(), Options{})
	var m *MissingError
	require.ErrorAs(t, err, &m)
	assert.Equal(t, MissingError{Target: "Slurm", Missing: []string{"Results"}}, *m)

	s, err := Slurm(plan(), Options{Results: "/scratch/my results", DataPath: "/scratch/cifar10", Parallelism: 5})
	require.NoError(t, err)
	for _, want := range []string{"#SBATCH --array=0-11%5", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=1024M", "#SBATCH --time=0:30:00", `#SBATCH --output="/scratch/my results/logs/%x-%a.out"`,
		"exec advbench reproduce --cell auto --preset quick --norms bn,modenorm,auxbn,saauxbn --seeds 1,2,3 --out '/scratch/my results/advbench-quick' --data /scratch/cifar10",
		"advbench reproduce merge '/scratch/my results/advbench-quick'"} {
		assert.Contains(t, s, want)
	}
	path := filepath.Join(t.TempDir(), "job.sbatch")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	out, err := exec.Command("bash", "-n", path).CombinedOutput()
	assert.NoError(t, err, string(out))
	assert.True(t, strings.HasPrefix(s, "#!/bin/bash\n"))

	sum := Summary(plan())
	assert.Contains(t, sum, "12 cells, preset quick, about 0.5 CPU-hours each")
	assert.Contains(t, sum, "cell 11: saauxbn seed 3")
}
