import HummingbirdWebSocket
import HummingbirdWSCompression

/// permessage-deflate as every browser offers it. With zlib's defaults (a 32 KiB window, memory
/// level 8) 1,000 sockets that had exchanged 20 chat frames each held 134 KiB more per socket
/// than without compression, three times what the rest of a socket costs; with 11 bits and level
/// 4, 31 KiB. Chat frames are a few hundred bytes and repeat the keys and names of the frames
/// before them, which a 2 KiB window still reaches: 21% of their size instead of 19%.
struct WebSocketCompression: Sendable, Equatable {
    var enabled = true
    /// Window of the server's compressor and, when the client lets the server choose, of the
    /// client's (so the server's decompressor), in bits: 9...15.
    var windowBits = 11
    /// zlib's memory level of the server's compressor: 1...9.
    var memoryLevel = 4

    /// The extensions the upgrade offers. `maxMessageBytes` bounds a message after inflation: the
    /// library's own bound (16 KiB) closed with 1011 a socket whose client compressed a message it
    /// would have accepted uncompressed.
    func extensions(maxMessageBytes: Int) -> [WebSocketExtensionFactory] {
        guard enabled else { return [] }
        return [.perMessageDeflate(
            clientMaxWindow: windowBits, serverMaxWindow: windowBits, memoryLevel: memoryLevel,
            maxDecompressedFrameSize: maxMessageBytes)]
    }
}
