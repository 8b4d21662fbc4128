namespace Dstar.Learning.Data.Synthetic;

/// <summary>
/// Ridge regression with a closed-form optimum. Features x ~ N(0, I_d); targets y = w·x + b + σ·ε with a random
/// true (w, b) and ε ~ N(0, 1). With z = (x, 1) and θ = (w, b) (the <c>linreg</c> model's layout), the objective is
/// F(θ) = (1/2n) Σᵢ (θ·zᵢ − yᵢ)² + (λ/2)‖θ‖², and θ* solves (ZᵀZ/n + λI) θ = Zᵀy/n (Cholesky, O(n d² + d³)).
/// </summary>
public static class LinearRegressionProblem
{
    /// <summary>Draws the data and solves for θ*.</summary>
    /// <param name="trainCount">n ≥ 1 training samples.</param>
    /// <param name="testCount">≥ 1 test samples.</param>
    /// <param name="dimension">d ≥ 1 features.</param>
    /// <param name="noise">σ ≥ 0, the target noise.</param>
    /// <param name="l2">λ &gt; 0 (strong convexity).</param>
    /// <param name="seed">Same seed, same data.</param>
    /// <exception cref="ArgumentOutOfRangeException">a count, dimension, σ or λ outside its range.</exception>
    public static SyntheticProblem Create(int trainCount = 2000, int testCount = 500, int dimension = 10, double noise = 0.1, double l2 = 0.01, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(testCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!(noise >= 0) || !double.IsFinite(noise))
        {
            throw new ArgumentOutOfRangeException(nameof(noise), $"noise must be ≥ 0, got {noise}");
        }

        if (!(l2 > 0) || !double.IsFinite(l2))
        {
            throw new ArgumentOutOfRangeException(nameof(l2), $"l2 must be > 0 for a strongly convex problem, got {l2}");
        }

        var random = new Random(seed);
        var truth = Gaussian.Matrix(random, dimension + 1);
        (VectorDataset, float[]) Draw(string name, int count)
        {
            var x = Gaussian.Matrix(random, count * dimension);
            var y = new float[count];
            for (int i = 0; i < count; i++)
            {
                double value = truth[dimension];
                for (int j = 0; j < dimension; j++)
                {
                    value += truth[j] * x[i * dimension + j];
                }

                y[i] = (float)(value + noise * Gaussian.Next(random));
            }

            return (VectorDataset.Regression(name, x, dimension, y), x);
        }

        var (train, features) = Draw("synthetic-linear train", trainCount);
        var (test, _) = Draw("synthetic-linear test", testCount);

        int p = dimension + 1;
        var normal = new double[p * p];
        var right = new double[p];
        var z = new double[p];
        var targets = train.Targets;
        for (int i = 0; i < trainCount; i++)
        {
            for (int j = 0; j < dimension; j++)
            {
                z[j] = features[i * dimension + j];
            }

            z[dimension] = 1;
            for (int a = 0; a < p; a++)
            {
                right[a] += z[a] * targets[i] / trainCount;
                for (int b = 0; b < p; b++)
                {
                    normal[a * p + b] += z[a] * z[b] / trainCount;
                }
            }
        }

        for (int a = 0; a < p; a++)
        {
            normal[a * p + a] += l2;
        }

        var optimum = Cholesky.Solve(normal, right);
        return new SyntheticProblem(train, test, "linreg", l2, optimum.Select(v => (float)v).ToArray(), Objective(train, optimum, l2));
    }

    /// <summary>F(θ) in double precision (the reference for tests and convergence checks).</summary>
    public static double Objective(VectorDataset data, IReadOnlyList<double> theta, double l2)
    {
        int d = data.FeatureCount;
        double sum = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = data.Row(i);
            double prediction = theta[d];
            for (int j = 0; j < d; j++)
            {
                prediction += theta[j] * row[j];
            }

            double residual = prediction - data.Targets[i];
            sum += 0.5 * residual * residual;
        }

        return sum / data.Count + 0.5 * l2 * theta.Sum(t => t * t);
    }
}
