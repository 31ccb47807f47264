/// A String compared and hashed by its UTF-8 bytes. Swift's String equality is Unicode canonical
/// equivalence ("é" == "e\u{301}", U+1F77 == U+03AF), but vocabularies hold both spellings as different
/// tokens, and JSON objects may have both as keys: dictionaries of token texts key on this instead.
public struct ExactString: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { value }

    public static func == (a: Self, b: Self) -> Bool { a.value.utf8.elementsEqual(b.value.utf8) }

    public func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
