/// A topic a WebSocket client can subscribe to (Docs/api.md, "WebSocket").
/// `incidents` and `packets` are accepted but socfwd has no such events
/// yet: subscribing to them succeeds and produces nothing.
public enum StreamTopic: String, Sendable, CaseIterable {
    case alerts, quarantine, stats, reloads, incidents, packets
}
