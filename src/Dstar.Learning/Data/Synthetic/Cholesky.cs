namespace Dstar.Learning.Data.Synthetic;

/// <summary>Solves A x = b for a symmetric positive definite A (dense, double precision) by Cholesky, A = L Lᵀ.</summary>
internal static class Cholesky
{
    /// <summary>Solves in place: <paramref name="matrix"/> (n × n, row-major) is overwritten by L; returns x.</summary>
    /// <exception cref="InvalidOperationException">A is not positive definite (a pivot ≤ 0).</exception>
    public static double[] Solve(double[] matrix, double[] rightHandSide)
    {
        int n = rightHandSide.Length;
        for (int j = 0; j < n; j++)
        {
            double diagonal = matrix[j * n + j];
            for (int k = 0; k < j; k++)
            {
                diagonal -= matrix[j * n + k] * matrix[j * n + k];
            }

            if (!(diagonal > 0))
            {
                throw new InvalidOperationException($"matrix is not positive definite (pivot {j} is {diagonal})");
            }

            double pivot = Math.Sqrt(diagonal);
            matrix[j * n + j] = pivot;
            for (int i = j + 1; i < n; i++)
            {
                double sum = matrix[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    sum -= matrix[i * n + k] * matrix[j * n + k];
                }

                matrix[i * n + j] = sum / pivot;
            }
        }

        var x = (double[])rightHandSide.Clone();
        for (int i = 0; i < n; i++)
        {
            double sum = x[i];
            for (int k = 0; k < i; k++)
            {
                sum -= matrix[i * n + k] * x[k];
            }

            x[i] = sum / matrix[i * n + i];
        }

        for (int i = n - 1; i >= 0; i--)
        {
            double sum = x[i];
            for (int k = i + 1; k < n; k++)
            {
                sum -= matrix[k * n + i] * x[k];
            }

            x[i] = sum / matrix[i * n + i];
        }

        return x;
    }
}
