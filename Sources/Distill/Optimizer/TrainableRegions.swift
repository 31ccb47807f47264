import Model

extension ParameterRegion {
    /// The trainable slots of `params` with their gradients in `gradients`, in canonical order, named by
    /// their GGUF tensor names; one-dimensional slots (biases, norms) are not decayed.
    public static func regions(_ params: ParameterSet, _ gradients: GradientSet) -> [ParameterRegion] {
        gradients.keys.map { key in
            let shape = params.layout[key]!.shape
            return ParameterRegion(name: TensorNames.gguf(key.slot, layer: key.layer),
                                   values: params.pointer(key.slot, layer: key.layer),
                                   gradient: gradients.pointer(key.slot, layer: key.layer)!,
                                   count: shape.reduce(1, *), decay: shape.count >= 2)
        }
    }
}
