/// Byte buffers for tests of gathering writes.
public enum Buffers {
    /// The chunks laid end to end in one allocation, handed over as one buffer per chunk.
    public static func with<Result>(_ chunks: [[UInt8]], _ body: ([UnsafeRawBufferPointer]) throws -> Result) throws -> Result {
        let storage = chunks.flatMap { $0 }
        return try storage.withUnsafeBytes { all in
            var offset = 0
            let buffers = chunks.map { chunk -> UnsafeRawBufferPointer in
                defer { offset += chunk.count }
                return UnsafeRawBufferPointer(rebasing: all[offset..<(offset + chunk.count)])
            }
            return try body(buffers)
        }
    }
}
