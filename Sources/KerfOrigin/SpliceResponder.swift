import FoundationEssentials
import Hummingbird
import KerfCore
import KerfLive
import NIOCore

/// The operator's splice API: `POST /api/channels/<name>/splice` with a JSON body
/// `{"type": "out"|"in", "duration": 30, "id": "break-1", "time": "2026-12-06T12:00:00Z"}` (every
/// key optional; `time` a UTC date-time or channel seconds, none: the next keyframe). Answers 202
/// with the splice's id and the channel time asked for, 400 with one line on a bad body, 404 for
/// an unknown channel, 409 when the channel has no input connected (or the id is in use, or
/// there is no break to end).
/// Admission (the admin token) is `AdminAccessMiddleware`'s.
struct SpliceResponder: Sendable {
    let channels: [String: LiveChannel]
    /// The largest body read.
    static let maximumBody = 4096

    /// The body's fields, as sent.
    struct Body: Decodable {
        var type: String?
        var duration: Double?
        var id: String?
        var time: LiveChannel.SpliceTime

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            let known: Set<String> = ["type", "duration", "id", "time"]
            if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
                throw SpliceResponder.BadRequest("unknown key \(unknown.stringValue) (known: duration, id, time, type)")
            }
            func field<T: Decodable>(_ name: String, _ type: T.Type, _ expected: String) throws -> T? {
                do { return try container.decodeIfPresent(T.self, forKey: Key(stringValue: name)) } catch {
                    throw SpliceResponder.BadRequest("\(name) must be \(expected)")
                }
            }
            type = try field("type", String.self, "\"out\" or \"in\"")
            duration = try field("duration", Double.self, "a number of seconds")
            id = try field("id", String.self, "a string")
            if let seconds = try? container.decodeIfPresent(Double.self, forKey: Key(stringValue: "time")) {
                guard seconds.isFinite, seconds >= 0 else { throw SpliceResponder.BadRequest("time must be a UTC date-time or channel seconds") }
                time = .channel(MediaTime(seconds: seconds, timescale: 1000))
            } else if let text = try field("time", String.self, "a UTC date-time or channel seconds") {
                guard let seconds = UTCTime.parseXSDateTime(text) else {
                    throw SpliceResponder.BadRequest("time must be a UTC date-time (2026-12-06T12:00:00Z) or channel seconds")
                }
                time = .wallClock(seconds)
            } else {
                time = .now
            }
        }
    }

    /// A body that cannot be used: one line.
    struct BadRequest: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    func respond(to request: Request, channel name: String) async -> Response {
        guard let channel = channels[name] else { return VODResponder.error(.notFound, "no such channel", maxAge: nil) }
        let order: LiveChannel.SpliceOrder
        do {
            let bytes = try await request.body.collect(upTo: Self.maximumBody)
            order = try Self.order(Array(buffer: bytes))
        } catch let error as BadRequest {
            return VODResponder.error(.badRequest, error.reason, maxAge: nil)
        } catch {
            return VODResponder.error(.contentTooLarge, "the body is longer than \(Self.maximumBody) bytes", maxAge: nil)
        }
        do {
            let (id, time, date) = try channel.splice(order)
            let answer = "{\"id\":\"\(id)\",\"time\":\(time.seconds),\"date\":\"\(UTCTime.xsDateTime(date))\"}\n"
            return Response(status: .accepted, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: answer)))
        } catch {
            return VODResponder.error(.conflict, error.message, maxAge: nil)
        }
    }

    /// The order a body asks for.
    /// - Throws: `BadRequest` naming what is wrong.
    static func order(_ bytes: [UInt8]) throws -> LiveChannel.SpliceOrder {
        let body: Body
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) {
            body = try JSONDecoder().decode(Body.self, from: Data("{}".utf8))
        } else {
            do { body = try JSONDecoder().decode(Body.self, from: Data(bytes)) } catch let error as BadRequest { throw error } catch {
                throw BadRequest("the body is not a JSON object")
            }
        }
        var order = LiveChannel.SpliceOrder(time: body.time)
        switch body.type ?? "out" {
        case "out": break
        case "in": order.returns = true
        default: throw BadRequest("type must be \"out\" or \"in\"")
        }
        if let duration = body.duration {
            guard !order.returns else { throw BadRequest("duration is for a splice out") }
            guard duration.isFinite, duration > 0, duration <= 86_400 else { throw BadRequest("duration must be seconds between 0 and 86400") }
            order.duration = MediaTime(seconds: duration, timescale: 1000)
        }
        if let id = body.id {
            guard !id.isEmpty, id.utf8.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }) else {
                throw BadRequest("id must be 1 to 64 letters, digits, -, _, . or :")
            }
            order.id = id
        }
        return order
    }
}
