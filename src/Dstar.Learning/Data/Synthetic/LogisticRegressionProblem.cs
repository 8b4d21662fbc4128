namespace Dstar.Learning.Data.Synthetic;

/// <summary>
/// L2-regularised multinomial logistic regression with a numerically known optimum. Features x ~ N(0, I_d); a random
/// true (W, b) with W entries ~ N(0, s²/d), so the true logits have standard deviation about s; labels are drawn from
/// softmax(W x + b). With θ = (W row-major [C × d], then b [C]) (the <c>logreg</c> model's layout) the objective is
/// F(θ) = (1/n) Σᵢ −log softmax(W xᵢ + b)[yᵢ] + (λ/2)‖θ‖², strongly convex for λ &gt; 0 (the softmax's shift
/// invariance is removed by the L2 term on every parameter, biases included). θ* is found by damped Newton's method in
/// double precision until ‖∇F‖ &lt; 1e-10; each step costs O(n (C(d+1))² + (C(d+1))³).
/// </summary>
public static class LogisticRegressionProblem
{
    /// <summary>Draws the data and solves for θ*.</summary>
    /// <param name="trainCount">n ≥ 1 training samples.</param>
    /// <param name="testCount">≥ 1 test samples.</param>
    /// <param name="dimension">d ≥ 1 features.</param>
    /// <param name="classCount">C ≥ 2 classes.</param>
    /// <param name="l2">λ &gt; 0 (strong convexity).</param>
    /// <param name="separation">s &gt; 0: larger means more separable classes.</param>
    /// <param name="seed">Same seed, same data.</param>
    /// <exception cref="ArgumentOutOfRangeException">a parameter outside its range, or C(d+1) &gt; 2000 (the Newton solve would be too large).</exception>
    public static SyntheticProblem Create(int trainCount = 2000, int testCount = 500, int dimension = 10, int classCount = 2,
        double l2 = 0.01, double separation = 3.0, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(testCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if ((long)classCount * (dimension + 1) > 2000)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), $"C(d+1) = {classCount * (dimension + 1)} parameters is too many for the exact Newton solve (at most 2000)");
        }

        if (!(l2 > 0) || !double.IsFinite(l2))
        {
            throw new ArgumentOutOfRangeException(nameof(l2), $"l2 must be > 0 for a strongly convex problem, got {l2}");
        }

        if (!(separation > 0) || !double.IsFinite(separation))
        {
            throw new ArgumentOutOfRangeException(nameof(separation), $"separation must be > 0, got {separation}");
        }

        var random = new Random(seed);
        var weights = Gaussian.Matrix(random, classCount * dimension, separation / Math.Sqrt(dimension));
        var bias = Gaussian.Matrix(random, classCount, 0.5);
        var logits = new double[classCount];
        VectorDataset Draw(string name, int count)
        {
            var x = Gaussian.Matrix(random, count * dimension);
            var y = new int[count];
            for (int i = 0; i < count; i++)
            {
                for (int c = 0; c < classCount; c++)
                {
                    logits[c] = bias[c];
                    for (int j = 0; j < dimension; j++)
                    {
                        logits[c] += weights[c * dimension + j] * x[i * dimension + j];
                    }
                }

                Softmax(logits);
                double u = random.NextDouble(), cumulative = 0;
                y[i] = classCount - 1;
                for (int c = 0; c < classCount; c++)
                {
                    cumulative += logits[c];
                    if (u < cumulative)
                    {
                        y[i] = c;
                        break;
                    }
                }
            }

            return VectorDataset.Classification(name, x, dimension, y, classCount);
        }

        var train = Draw("synthetic-logistic train", trainCount);
        var test = Draw("synthetic-logistic test", testCount);
        var optimum = Solve(train, l2);
        return new SyntheticProblem(train, test, "logreg", l2, optimum.Select(v => (float)v).ToArray(), Objective(train, optimum, l2));
    }

    /// <summary>F(θ) in double precision (the reference for tests and convergence checks).</summary>
    public static double Objective(VectorDataset data, IReadOnlyList<double> theta, double l2)
    {
        int d = data.FeatureCount, classes = data.ClassCount;
        var logits = new double[classes];
        double sum = 0;
        for (int i = 0; i < data.Count; i++)
        {
            Logits(data.Row(i), theta, d, logits);
            double max = logits.Max(), total = 0;
            foreach (var l in logits)
            {
                total += Math.Exp(l - max);
            }

            sum += max + Math.Log(total) - logits[data.Labels[i]];
        }

        return sum / data.Count + 0.5 * l2 * theta.Sum(t => t * t);
    }

    private static double[] Solve(VectorDataset data, double l2)
    {
        int d = data.FeatureCount, classes = data.ClassCount, n = data.Count;
        int p = classes * (d + 1);
        var theta = new double[p];
        var gradient = new double[p];
        var hessian = new double[p * p];
        var probabilities = new double[classes];
        var z = new double[d + 1];
        double objective = Objective(data, theta, l2);
        for (int iteration = 0; iteration < 100; iteration++)
        {
            Array.Clear(hessian);
            for (int a = 0; a < p; a++)
            {
                gradient[a] = l2 * theta[a];
                hessian[a * p + a] = l2;
            }

            for (int i = 0; i < n; i++)
            {
                var row = data.Row(i);
                for (int j = 0; j < d; j++)
                {
                    z[j] = row[j];
                }

                z[d] = 1;
                Logits(row, theta, d, probabilities);
                Softmax(probabilities);
                for (int c = 0; c < classes; c++)
                {
                    double residual = probabilities[c] - (data.Labels[i] == c ? 1 : 0);
                    for (int j = 0; j <= d; j++)
                    {
                        gradient[Index(c, j, d, classes)] += residual * z[j] / n;
                    }

                    for (int c2 = 0; c2 < classes; c2++)
                    {
                        double weight = probabilities[c] * ((c == c2 ? 1 : 0) - probabilities[c2]) / n;
                        for (int j = 0; j <= d; j++)
                        {
                            int row1 = Index(c, j, d, classes) * p;
                            for (int j2 = 0; j2 <= d; j2++)
                            {
                                hessian[row1 + Index(c2, j2, d, classes)] += weight * z[j] * z[j2];
                            }
                        }
                    }
                }
            }

            if (Math.Sqrt(gradient.Sum(g => g * g)) < 1e-10)
            {
                break;
            }

            var step = Cholesky.Solve(hessian, gradient);
            // Backtracking keeps F decreasing; the Newton step is accepted whole near the optimum.
            double length = 1;
            while (true)
            {
                var candidate = new double[p];
                for (int a = 0; a < p; a++)
                {
                    candidate[a] = theta[a] - length * step[a];
                }

                double value = Objective(data, candidate, l2);
                if (value <= objective || length < 1e-8)
                {
                    theta = candidate;
                    objective = value;
                    break;
                }

                length /= 2;
            }
        }

        return theta;
    }

    private static int Index(int c, int j, int d, int classes) => j < d ? c * d + j : classes * d + c;

    private static void Logits(ReadOnlySpan<float> x, IReadOnlyList<double> theta, int d, double[] logits)
    {
        int classes = logits.Length;
        for (int c = 0; c < classes; c++)
        {
            double value = theta[classes * d + c];
            for (int j = 0; j < d; j++)
            {
                value += theta[c * d + j] * x[j];
            }

            logits[c] = value;
        }
    }

    private static void Softmax(double[] values)
    {
        double max = values.Max(), total = 0;
        for (int c = 0; c < values.Length; c++)
        {
            values[c] = Math.Exp(values[c] - max);
            total += values[c];
        }

        for (int c = 0; c < values.Length; c++)
        {
            values[c] /= total;
        }
    }
}
