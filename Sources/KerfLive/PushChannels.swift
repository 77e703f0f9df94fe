import KerfRTMP

/// The channels RTMP publishers push to (`input: rtmp`), by name: the RTMP server's
/// `PublishAuthorizer`. A publish is taken when the stream name is a push channel, the key is
/// the channel's and no one else is publishing to it.
package struct PushChannels: PublishAuthorizer {
    let channels: [String: LiveChannel]

    package init(_ channels: [String: LiveChannel]) {
        self.channels = channels.filter { $0.value.configuration.isPush }
    }

    package var isEmpty: Bool { channels.isEmpty }

    package func authorizePublish(stream name: String, key: String?) -> Result<FLVPipe, RTMPServer.Refusal> {
        guard let channel = channels[name] else {
            return .failure(RTMPServer.Refusal(code: "NetStream.Publish.BadName", description: "no push channel named \(name)"))
        }
        return channel.acceptPublisher(key: key)
    }
}
