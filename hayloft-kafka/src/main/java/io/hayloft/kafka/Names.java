package io.hayloft.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Image names as they travel in records: UTF-8 strings, checked strictly. */
final class Names {
    /** Code of records the bridge refuses before asking the store (no name, bad UTF-8, no image). */
    static final String INVALID_RECORD = "InvalidRecord";

    private Names() {}

    /** The name in {@code bytes}; a missing, empty or malformed one is a permanent failure. */
    static String decode(byte[] bytes, String where) throws BridgeException {
        if (bytes == null || bytes.length == 0) {
            throw BridgeException.permanent(INVALID_RECORD, "a record without a name in its " + where);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw BridgeException.permanent(INVALID_RECORD, "the name in the record's " + where + " is not UTF-8");
        }
    }

    /** The name for a log line: a long one is cut short. */
    static String shown(String name) {
        return name.length() <= 120 ? name : name.substring(0, 100) + "... (" + name.length() + " chars)";
    }

    static byte[] encode(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }
}
