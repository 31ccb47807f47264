import Foundation

/// SwiGLU (llama MLP): out = silu(gate) · up. Shapes: gate, up, out [n].
public enum SwiGLU {
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = g / (1 + exp(-g)) * up[i]
        }
    }
}

/// GELU, tanh approximation (GPT-2's "gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). In place on [n].
public enum GELU {
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c = Float((2 / Double.pi).squareRoot())
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + tanh(c * (v + 0.044715 * v * v * v)))
        }
    }
}
