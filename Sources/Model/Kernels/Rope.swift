import Foundation

/// Rotary position embedding on adjacent pairs (llama.cpp's NORM mode, which is why GGUF q/k rows are
/// permuted from HF's rotate-half order). Shape: x [rows, heads·headDim], row t at position `start + t`.
public enum Rope {
    public static func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                               theta: Float, start: Int = 0) {
        let half = headDim / 2
        // Frequencies in Double: θ_i = base^(-2i/d).
        let freqs = (0..<half).map { pow(Double(theta), -2 * Double($0) / Double(headDim)) }
        for t in 0..<rows {
            let pos = Double(start + t)
            let row = x + t * heads * headDim
            for i in 0..<half {
                let angle = pos * freqs[i]
                let c = Float(cos(angle)), s = Float(sin(angle))
                for h in 0..<heads {
                    let p = row + h * headDim + 2 * i
                    let x0 = p[0], x1 = p[1]
                    p[0] = x0 * c - x1 * s
                    p[1] = x0 * s + x1 * c
                }
            }
        }
    }
}
