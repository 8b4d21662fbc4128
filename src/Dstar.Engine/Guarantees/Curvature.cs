using Dstar.Learning;

namespace Dstar.Engine.Guarantees;

/// <summary>
/// The eigenvalues of the Hessian of F at a point, and the contraction factor max|1 − ηλ| that gradient descent with
/// step η has there: the rate per round at which E[x_t] approaches θ* for the plain mean without attack (exact for
/// linear regression, whose Hessian is constant; local for logistic regression).
/// </summary>
public static class Curvature
{
    /// <summary>
    /// The Hessian's eigenvalues at <paramref name="point"/>, for F = mean loss over <paramref name="samples"/> (with the
    /// oracle's L2 term), by central differences of the full-batch gradient (step <paramref name="step"/>, 2p gradients,
    /// p = the parameter count; exact for a quadratic F) and Jacobi rotations, ascending.
    /// </summary>
    /// <exception cref="ArgumentException">more than 2,000 parameters (this is for small synthetic models).</exception>
    public static double[] HessianEigenvalues(IGradientOracle oracle, int[] samples, ReadOnlySpan<float> point, double step = 1e-2)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        int p = oracle.ParameterCount;
        if (p > 2000)
        {
            throw new ArgumentException($"the Hessian of {p} parameters is too large for a dense eigen-decomposition (at most 2,000)");
        }

        var hessian = new double[p, p];
        var x = point.ToArray();
        for (int j = 0; j < p; j++)
        {
            float original = x[j];
            x[j] = (float)(original + step);
            oracle.SetParameters(x);
            var plus = HonestReference.ShardGradient(oracle, samples);
            x[j] = (float)(original - step);
            oracle.SetParameters(x);
            var minus = HonestReference.ShardGradient(oracle, samples);
            double width = (double)(float)(original + step) - (float)(original - step);
            x[j] = original;
            for (int i = 0; i < p; i++)
            {
                hessian[i, j] = (plus[i] - (double)minus[i]) / width;
            }
        }

        oracle.SetParameters(x);
        for (int i = 0; i < p; i++)
        {
            for (int j = i + 1; j < p; j++)
            {
                double mean = (hessian[i, j] + hessian[j, i]) / 2;
                hessian[i, j] = mean;
                hessian[j, i] = mean;
            }
        }

        return Jacobi(hessian);
    }

    /// <summary>max over λ of |1 − ηλ|.</summary>
    public static double ContractionFactor(IReadOnlyList<double> eigenvalues, double learningRate) =>
        eigenvalues.Max(l => Math.Abs(1 - learningRate * l));

    /// <summary>Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (the matrix is overwritten), ascending.</summary>
    private static double[] Jacobi(double[,] a)
    {
        int n = a.GetLength(0);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    off += a[i, j] * a[i, j];
                }
            }

            if (off < 1e-22)
            {
                break;
            }

            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                    {
                        continue;
                    }

                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                }
            }
        }

        return Enumerable.Range(0, n).Select(i => a[i, i]).Order().ToArray();
    }
}
