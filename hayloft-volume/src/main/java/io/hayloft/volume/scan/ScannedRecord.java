package io.hayloft.volume.scan;

import io.hayloft.volume.format.NeedleFormat.NeedleFooter;
import io.hayloft.volume.format.NeedleFormat.NeedleHeader;

/**
 * A record found by a {@link RecordScanner}: where it is, its verified header and footer, and
 * whether its data and padding matched the data CRC (always true when data was not checked).
 */
public record ScannedRecord(long offset, long length, NeedleHeader header, NeedleFooter footer, boolean dataOk) {
    public long end() {
        return offset + length;
    }
}
