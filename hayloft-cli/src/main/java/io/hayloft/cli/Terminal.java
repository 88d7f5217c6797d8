package io.hayloft.cli;

import java.io.Console;
import java.lang.reflect.InvocationTargetException;

/** Whether a person is watching: progress bars are drawn only then. */
public final class Terminal {
    private Terminal() {}

    /**
     * True when standard input and output are a terminal. Before JDK 22 a console exists only
     * then; from JDK 22 on it may exist anyway, and {@code Console.isTerminal()} (called
     * reflectively, as Hayloft compiles for 21) tells.
     */
    public static boolean interactive() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (IllegalAccessException | InvocationTargetException e) {
            return false;
        }
    }
}
