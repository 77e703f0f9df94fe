/// Decides whether an RTMP publish may go ahead, and where its media goes. The RTMP server
/// knows no channels: it asks this once per `publish` command and writes the publisher's FLV
/// tags into the pipe it is given.
package protocol PublishAuthorizer: Sendable {
    /// A publish to the stream `name` (the part after the application, without its query) with
    /// the stream key `key` (the `key` query parameter, if any).
    /// - Returns: the pipe the publisher's tags go into, or the refusal sent back to it
    ///   (its `NetStream.Publish.*` code and description).
    func authorizePublish(stream name: String, key: String?) -> Result<FLVPipe, RTMPServer.Refusal>
}
