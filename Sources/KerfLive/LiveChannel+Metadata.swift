import KerfCore
import KerfMedia
import KerfPackager
import KerfRTMP

extension LiveChannel {
    /// A timed ID3 tag read from the input (a packet of its `timed_id3` stream): into the
    /// segments it falls in, as an emsg of the CMAF video (AOM ID3 in CMAF) and as it came in
    /// the MPEG-TS variants. Bytes that are no ID3 tag are left out (logged).
    /// - Parameter arrival: the packet's time on the input timeline (as the packager is fed).
    func timedMetadata(_ bytes: [UInt8], arrival: MediaTime, packager: LivePackager) {
        guard let tag = ID3Tag.repaired(bytes) else {
            logger.notice("timed metadata that is no ID3 tag left out", metadata: ["bytes": "\(bytes.count)"])
            return
        }
        guard let time = packager.channelTime(ofInputTime: arrival) else { return }
        packager.addEventMessage(.timedID3(time: time, tag: tag))
    }

    /// A publisher's timed data (`onTextData`, an `onMetaData` update), timed on the stream's
    /// timeline like its tags: an ID3v2.4 tag of TXXX frames, the first naming the handler
    /// (`rtmp` = `onTextData`), then one per property.
    func timedMetadata(_ data: RTMPTextData, packager: LivePackager) {
        guard let time = packager.channelTime(ofInputTime: data.time) else { return }
        let tag = ID3Tag.userText([("rtmp", data.handler)] + data.properties.map { ($0.name, $0.value) })
        packager.addEventMessage(.timedID3(time: time, tag: tag))
    }
}
