package dev.vigil.config.lex;

import dev.vigil.config.Diagnostics;
import dev.vigil.config.LoadOptions;
import dev.vigil.config.SourceRef;
import dev.vigil.config.Token;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns keepalived.conf text into lines of {@link Token}s, implementing the language's preprocessing:
 * {@code #}/{@code !} comments, {@code @ID}/{@code @^ID} conditional lines, {@code $NAME=value} parameters
 * (with {@code \} continuation) and their recursive use-time substitution, the built-in parameters,
 * {@code ~SEQ}/{@code ~LST} generators, quoted strings with C escapes, and {@code include} with globs.
 * Every token keeps the file, line and column where it was written.
 */
public final class ConfigReader {
    private static final Pattern DEFINITION = Pattern.compile("^\\s*\\$([A-Za-z_][A-Za-z0-9_]*)\\s*=(.*)$");
    private static final Set<String> INCLUDE_WORDS =
            Set.of("include", "includer", "includem", "includew", "includeb", "includea");
    private static final int MAX_DEPTH = 32;
    private static final Pattern INCLUDE_LINE = Pattern.compile("^\\s*(include[rmwba]?)\\s+(\\S.*)$");

    private final LoadOptions options;
    private final Diagnostics diags;
    private final Map<String, String> params = new HashMap<>();
    private final List<Path> files = new ArrayList<>();
    private final Deque<Path> stack = new ArrayDeque<>();
    private final List<List<Token>> out = new ArrayList<>();

    /** A reader that reports into {@code diags}. */
    public ConfigReader(LoadOptions options, Diagnostics diags) {
        this.options = options;
        this.diags = diags;
    }

    /** Reads {@code file} and everything it includes; returns the logical lines in reading order. */
    public List<List<Token>> read(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        String text;
        try {
            text = decode(Files.readAllBytes(abs));
        } catch (IOException e) {
            diags.error(new SourceRef(abs, 1, 1), "cannot read \"" + file + "\": " + reason(e));
            return List.of();
        }
        readText(abs, text);
        return List.copyOf(out);
    }

    /** Files read so far, in the order they were opened. */
    public List<Path> files() {
        return List.copyOf(files);
    }

    /** The parameters defined so far (name to raw value). */
    public Map<String, String> parameters() {
        return Map.copyOf(params);
    }

    private void readText(Path file, String text) {
        files.add(file);
        stack.push(file);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            SourceText line = stripComment(SourceText.of(chomp(lines[i])));
            line = conditional(line);
            if (line == null || line.text.isBlank()) {
                continue;
            }
            Matcher def = DEFINITION.matcher(line.text);
            if (def.matches()) {
                StringBuilder value = new StringBuilder(def.group(2).strip());
                while (value.length() > 0 && value.charAt(value.length() - 1) == '\\' && i + 1 < lines.length) {
                    value.setLength(value.length() - 1);
                    i++;
                    SourceText next = conditional(stripComment(SourceText.of(chomp(lines[i]))));
                    value.append('\n').append(next == null ? "" : next.text.strip());
                }
                params.put(def.group(1), value.toString().strip());
                continue;
            }
            for (SourceText generated : generate(line, file, lineNo, 0)) {
                emit(generated, file, lineNo);
            }
        }
        stack.pop();
    }

    private void emit(SourceText line, Path file, int lineNo) {
        SourceText expanded = substitute(line, file, lineNo, 0);
        int start = 0;
        for (int j = 0; j <= expanded.length(); j++) {
            if (j == expanded.length() || (expanded.text.charAt(j) == '\n' && !expanded.literal[j])) {
                SourceText logical = expanded.sub(start, j);
                start = j + 1;
                Matcher inc = INCLUDE_LINE.matcher(logical.text);
                if (inc.matches()) {
                    // the pattern is taken verbatim so that csh braces are not read as blocks
                    String pattern = inc.group(2).strip();
                    if (pattern.length() >= 2 && (pattern.charAt(0) == '"' || pattern.charAt(0) == '\'')
                            && pattern.charAt(pattern.length() - 1) == pattern.charAt(0)) {
                        pattern = pattern.substring(1, pattern.length() - 1);
                    }
                    include(List.of(new Token(inc.group(1), new SourceRef(file, lineNo, logical.colAt(inc.start(1))), false),
                            new Token(pattern, new SourceRef(file, lineNo, logical.colAt(inc.start(2))), false)), file);
                    continue;
                }
                List<Token> tokens = tokenize(logical, file, lineNo);
                if (tokens.isEmpty()) {
                    continue;
                }
                Token first = tokens.get(0);
                if (!first.quoted() && INCLUDE_WORDS.contains(first.text())) {
                    include(tokens, file);
                } else {
                    out.add(tokens);
                }
            }
        }
    }

    // ---------------------------------------------------------------- comments and conditionals

    static String chomp(String s) {
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Cuts the line at a {@code #} or {@code !} that starts a word outside quotes. */
    static SourceText stripComment(SourceText t) {
        char quote = 0;
        String s = t.text;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if ((c == '#' || c == '!')
                    && (i == 0 || Character.isWhitespace(s.charAt(i - 1)) || s.charAt(i - 1) == '{' || s.charAt(i - 1) == '}')) {
                return t.sub(0, i);
            }
        }
        return t;
    }

    /** Applies an {@code @ID} / {@code @^ID} prefix: the rest of the line, or {@code null} when not selected. */
    private SourceText conditional(SourceText t) {
        int i = 0;
        while (i < t.length() && Character.isWhitespace(t.text.charAt(i))) {
            i++;
        }
        if (i >= t.length() || t.text.charAt(i) != '@') {
            return t;
        }
        boolean negate = i + 1 < t.length() && t.text.charAt(i + 1) == '^';
        int idStart = i + (negate ? 2 : 1);
        int idEnd = idStart;
        while (idEnd < t.length() && !Character.isWhitespace(t.text.charAt(idEnd))) {
            idEnd++;
        }
        String id = t.text.substring(idStart, idEnd);
        boolean match = id.equals(options.configId());
        return match != negate ? t.sub(idEnd) : null;
    }

    // ---------------------------------------------------------------- generators

    private List<SourceText> generate(SourceText line, Path file, int lineNo, int depth) {
        int at = findGenerator(line.text);
        if (at < 0 || depth > MAX_DEPTH) {
            return List.of(line);
        }
        int open = line.text.indexOf('(', at);
        int close = matchingParen(line.text, open);
        SourceRef ref = new SourceRef(file, lineNo, line.colAt(at));
        if (close < 0) {
            diags.error(ref, "unterminated generator \"" + line.text.substring(at) + "\"");
            return List.of();
        }
        String kind = line.text.substring(at + 1, open);
        String argText = substitute(line.sub(open + 1, close), file, lineNo, 0).text;
        List<String> args = splitTopLevel(argText);
        SourceText.Builder rest = new SourceText.Builder();
        rest.append(line, 0, at);
        rest.append(line, close + 1, line.length());
        SourceText remainder = rest.build();
        List<String[]> bindings = new ArrayList<>();
        List<String> names;
        if (kind.startsWith("SEQ")) {
            names = List.of(args.isEmpty() ? "" : args.get(0).strip());
            long[] n = new long[args.size() - 1 < 0 ? 0 : args.size() - 1];
            for (int k = 1; k < args.size(); k++) {
                try {
                    n[k - 1] = Long.parseLong(args.get(k).strip());
                } catch (NumberFormatException e) {
                    diags.error(ref, "~" + kind + " expected an integer, got \"" + args.get(k).strip() + "\"");
                    return List.of();
                }
            }
            long start;
            long step;
            long end;
            switch (n.length) {
                case 1 -> { start = 0; step = 1; end = n[0]; }
                case 2 -> { start = n[0]; step = 1; end = n[1]; }
                case 3 -> { start = n[0]; step = n[1]; end = n[2]; }
                default -> {
                    diags.error(ref, "~" + kind + " needs (var, [start, [step,]] end)");
                    return List.of();
                }
            }
            if (step == 0 || (end - start) / step > 100_000) {
                diags.error(ref, "~" + kind + " step " + step + " does not reach " + end);
                return List.of();
            }
            boolean hex = kind.equals("SEQx");
            for (long v = start; step > 0 ? v <= end : v >= end; v += step) {
                bindings.add(new String[] {hex ? Long.toHexString(v) : Long.toString(v)});
            }
        } else {
            if (args.isEmpty()) {
                diags.error(ref, "~LST needs (var, value, ...)");
                return List.of();
            }
            names = braceList(args.get(0));
            for (int k = 1; k < args.size(); k++) {
                List<String> values = braceList(args.get(k));
                String[] b = new String[names.size()];
                for (int v = 0; v < b.length; v++) {
                    b[v] = v < values.size() ? values.get(v) : "";
                }
                bindings.add(b);
            }
        }
        List<SourceText> result = new ArrayList<>();
        for (String[] binding : bindings) {
            Map<String, String> saved = new HashMap<>();
            for (int v = 0; v < names.size(); v++) {
                saved.put(names.get(v), params.get(names.get(v)));
                params.put(names.get(v), binding[v]);
            }
            for (SourceText g : generate(remainder, file, lineNo, depth + 1)) {
                // bind now: substitution of the generated copy happens while the variables are set
                result.add(substitute(g, file, lineNo, 0));
            }
            saved.forEach((k, v) -> {
                if (v == null) {
                    params.remove(k);
                } else {
                    params.put(k, v);
                }
            });
        }
        return result;
    }

    private static int findGenerator(String s) {
        for (String g : List.of("~SEQx(", "~SEQ(", "~LST(")) {
            int i = s.indexOf(g);
            if (i >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static int matchingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> splitTopLevel(String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' || c == '(') {
                depth++;
            } else if (c == '}' || c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static List<String> braceList(String s) {
        String t = s.strip();
        if (t.startsWith("{") && t.endsWith("}")) {
            return splitTopLevel(t.substring(1, t.length() - 1)).stream().map(String::strip).toList();
        }
        return List.of(t);
    }

    // ---------------------------------------------------------------- parameters

    private SourceText substitute(SourceText in, Path file, int lineNo, int depth) {
        if (in.text.indexOf('$') < 0) {
            return in;
        }
        SourceText.Builder b = new SourceText.Builder();
        String s = in.text;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != '$' || in.literal[i] || i + 1 >= s.length()) {
                b.append(c, in.cols[i], in.literal[i]);
                i++;
                continue;
            }
            int col = in.cols[i];
            SourceRef ref = new SourceRef(file, lineNo, col);
            String value = null;
            boolean literal = false;
            int end;
            if (s.charAt(i + 1) == '{') {
                int close = s.indexOf('}', i + 2);
                if (close < 0) {
                    b.append(c, col, false);
                    i++;
                    continue;
                }
                end = close + 1;
                String inner = s.substring(i + 2, close).strip();
                String[] words = inner.split("\\s+");
                String name = words[0];
                switch (name) {
                    case "_PWD" -> value = file.getParent() == null ? "/" : file.getParent().toString();
                    case "_INSTANCE" -> value = options.instanceName();
                    case "_HASH" -> { value = "#"; literal = true; }
                    case "_BANG" -> { value = "!"; literal = true; }
                    case "_ENV" -> {
                        if (words.length < 2) {
                            diags.error(ref, "${_ENV} needs a variable name");
                            value = "";
                        } else {
                            value = options.env().getOrDefault(words[1], "");
                        }
                    }
                    case "_RANDOM" -> value = random(words, ref);
                    default -> value = params.get(name);
                }
                if (value == null) {
                    diags.warning(ref, "parameter \"" + name + "\" is not defined");
                    value = "";
                }
            } else if (Character.isLetter(s.charAt(i + 1)) || s.charAt(i + 1) == '_') {
                int j = i + 1;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                end = j;
                value = params.get(s.substring(i + 1, j));
                if (value == null) {
                    b.append(in, i, j);
                    i = j;
                    continue;
                }
            } else {
                b.append(c, col, false);
                i++;
                continue;
            }
            SourceText.Builder rb = new SourceText.Builder();
            rb.appendAll(value, col, literal);
            SourceText repl = rb.build();
            if (!literal) {
                if (depth >= MAX_DEPTH) {
                    diags.error(ref, "parameter substitution nested deeper than " + MAX_DEPTH + " levels");
                    return b.build();
                }
                repl = substitute(repl, file, lineNo, depth + 1);
            }
            b.append(repl);
            i = end;
        }
        return b.build();
    }

    private String random(String[] words, SourceRef ref) {
        long min = 0;
        long max = 32767;
        try {
            if (words.length > 1) {
                min = Long.parseLong(words[1]);
            }
            if (words.length > 2) {
                max = Long.parseLong(words[2]);
            }
        } catch (NumberFormatException e) {
            diags.error(ref, "${_RANDOM} expected integers");
        }
        if (max < min) {
            diags.error(ref, "${_RANDOM} max " + max + " is below min " + min);
            return Long.toString(min);
        }
        return Long.toString(min + options.random().nextLong(max - min + 1));
    }

    // ---------------------------------------------------------------- tokens

    private List<Token> tokenize(SourceText t, Path file, int lineNo) {
        List<Token> tokens = new ArrayList<>();
        String s = t.text;
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (!t.literal[i] && Character.isWhitespace(c)) {
                i++;
                continue;
            }
            SourceRef ref = new SourceRef(file, lineNo, t.cols[i]);
            if (!t.literal[i] && (c == '{' || c == '}')) {
                tokens.add(new Token(String.valueOf(c), ref, false));
                i++;
                continue;
            }
            StringBuilder word = new StringBuilder();
            boolean quoted = false;
            while (i < n) {
                c = s.charAt(i);
                boolean lit = t.literal[i];
                if (!lit && (Character.isWhitespace(c) || c == '{' || c == '}')) {
                    break;
                }
                if (!lit && (c == '"' || c == '\'')) {
                    quoted = true;
                    int qStart = i;
                    i++;
                    boolean closed = false;
                    while (i < n) {
                        char q = s.charAt(i);
                        if (q == c && !t.literal[i]) {
                            closed = true;
                            i++;
                            break;
                        }
                        if (q == '\\' && !t.literal[i] && i + 1 < n) {
                            i = escape(s, i + 1, word);
                            continue;
                        }
                        word.append(q);
                        i++;
                    }
                    if (!closed) {
                        diags.error(new SourceRef(file, lineNo, t.cols[qStart]), "unterminated quoted string");
                    }
                    continue;
                }
                word.append(c);
                i++;
            }
            tokens.add(new Token(word.toString(), ref, quoted));
        }
        return tokens;
    }

    /** Decodes the C escape starting at {@code s[i]} (after the backslash); returns the next index. */
    private static int escape(String s, int i, StringBuilder out) {
        char e = s.charAt(i);
        switch (e) {
            case 'n' -> out.append('\n');
            case 't' -> out.append('\t');
            case 'r' -> out.append('\r');
            case 'a' -> out.append('\u0007');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'v' -> out.append('\u000b');
            case 'x' -> {
                int j = i + 1;
                int v = 0;
                while (j < s.length() && j < i + 3 && Character.digit(s.charAt(j), 16) >= 0) {
                    v = v * 16 + Character.digit(s.charAt(j), 16);
                    j++;
                }
                if (j == i + 1) {
                    out.append('x');
                    return i + 1;
                }
                out.append((char) v);
                return j;
            }
            default -> {
                if (e >= '0' && e <= '7') {
                    int j = i;
                    int v = 0;
                    while (j < s.length() && j < i + 3 && s.charAt(j) >= '0' && s.charAt(j) <= '7') {
                        v = v * 8 + (s.charAt(j) - '0');
                        j++;
                    }
                    out.append((char) v);
                    return j;
                }
                out.append(e);
            }
        }
        return i + 1;
    }

    // ---------------------------------------------------------------- include

    private void include(List<Token> tokens, Path file) {
        Token kw = tokens.get(0);
        if (tokens.size() < 2) {
            diags.error(kw.ref(), "missing argument for \"" + kw.text() + "\"");
            return;
        }
        Token arg = tokens.get(1);
        Path dir = file.getParent() == null ? Path.of("/") : file.getParent();
        String pattern = arg.text();
        List<Path> matches;
        if (pattern.chars().anyMatch(ch -> ch == '*' || ch == '?' || ch == '[' || ch == '{')) {
            matches = glob(dir.resolve(pattern).normalize());
            if (matches.isEmpty()) {
                diags.warning(arg.ref(), "no file matches include \"" + pattern + "\"");
                return;
            }
        } else {
            Path p = dir.resolve(pattern).normalize();
            if (!Files.exists(p)) {
                diags.warning(arg.ref(), "include file \"" + pattern + "\" not found");
                return;
            }
            matches = List.of(p);
        }
        for (Path p : matches) {
            if (stack.contains(p)) {
                diags.error(arg.ref(), "include loop: \"" + pattern + "\" is already being read");
                continue;
            }
            String text;
            try {
                text = decode(Files.readAllBytes(p));
            } catch (IOException e) {
                diags.error(arg.ref(), "cannot read \"" + pattern + "\": " + reason(e));
                continue;
            }
            readText(p, text);
        }
    }

    /** Expands a glob (with csh braces) component by component; sorted per directory. */
    static List<Path> glob(Path pattern) {
        List<Path> current = new ArrayList<>();
        Path root = pattern.getRoot();
        current.add(root == null ? Path.of("") : root);
        for (Path part : pattern) {
            String comp = part.toString();
            List<Path> next = new ArrayList<>();
            boolean wild = comp.chars().anyMatch(ch -> ch == '*' || ch == '?' || ch == '[' || ch == '{');
            for (Path base : current) {
                if (!wild) {
                    Path p = base.resolve(comp);
                    if (Files.exists(p)) {
                        next.add(p);
                    }
                    continue;
                }
                PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + comp);
                List<Path> found = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(base)) {
                    for (Path child : ds) {
                        if (m.matches(child.getFileName()) && !child.getFileName().toString().startsWith(".")) {
                            found.add(child);
                        }
                    }
                } catch (IOException e) {
                    continue;
                }
                found.sort(null);
                next.addAll(found);
            }
            current = next;
        }
        return current.stream().filter(Files::isRegularFile).toList();
    }

    private static String decode(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (IOException e) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    private static String reason(IOException e) {
        String name = e.getClass().getSimpleName();
        return switch (name) {
            case "NoSuchFileException" -> "no such file";
            case "AccessDeniedException" -> "permission denied";
            default -> e.getMessage() == null ? name : e.getMessage();
        };
    }
}
