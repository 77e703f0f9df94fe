import KerfMedia

extension Error {
    /// Names the file (and stream) on media errors that do not name one yet.
    func naming(file: String, stream: Int? = nil) -> any Error {
        if let media = self as? MediaError { return media.at(file: file, stream: stream) }
        return self
    }
}
