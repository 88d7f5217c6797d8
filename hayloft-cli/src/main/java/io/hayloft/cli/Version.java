package io.hayloft.cli;

import picocli.CommandLine.IVersionProvider;

/** Hayloft's version, as the jar's manifest states it. */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Hayloft.class.getPackage().getImplementationVersion();
        return new String[] {"Hayloft " + (v == null ? "(development build)" : v)};
    }
}
