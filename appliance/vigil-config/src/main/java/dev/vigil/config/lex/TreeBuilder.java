package dev.vigil.config.lex;

import dev.vigil.config.ConfigNode;
import dev.vigil.config.Diagnostics;
import dev.vigil.config.SourceRef;
import dev.vigil.config.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Groups token lines into {@link ConfigNode} statements and {@code { }} blocks. A brace may sit on the
 * statement's line, on the next line, or be glued to a word. An unclosed block is reported at its
 * {@code {}; when a top-level section keyword shows up inside an open block, the open blocks are
 * treated as unclosed there and the enclosing top-level statement is dropped, so that parsing resumes
 * with the next section.
 */
public final class TreeBuilder {
    /** Keywords that only ever start a top-level section. */
    static final Set<String> SECTION_KEYWORDS = Set.of("global_defs", "vrrp_instance", "vrrp_sync_group",
            "vrrp_script", "virtual_server", "virtual_server_group", "bfd_instance", "static_ipaddress",
            "static_routes", "static_rules", "vrrp_track_process", "garp_group", "linkbeat_interfaces");

    private final Diagnostics diags;

    /** A builder reporting into {@code diags}. */
    public TreeBuilder(Diagnostics diags) {
        this.diags = diags;
    }

    private static final class Frame {
        final Token keyword;
        final List<Token> args;
        final SourceRef brace;
        final List<ConfigNode> children = new ArrayList<>();
        boolean broken;

        Frame(Token keyword, List<Token> args, SourceRef brace) {
            this.keyword = keyword;
            this.args = args;
            this.brace = brace;
        }
    }

    /** Builds the top-level statements; statements of broken top-level blocks are left out. */
    public List<ConfigNode> build(List<List<Token>> lines) {
        List<Frame> stack = new ArrayList<>();
        Frame root = new Frame(null, List.of(), null);
        stack.add(root);
        for (List<Token> line : lines) {
            List<Token> stmt = new ArrayList<>();
            boolean lineStart = true;
            for (Token t : line) {
                Frame top = stack.get(stack.size() - 1);
                if (lineStart && stack.size() > 1 && !t.quoted() && SECTION_KEYWORDS.contains(t.text())) {
                    unwind(stack);
                    top = root;
                }
                lineStart = false;
                if (t.isOpen()) {
                    if (!stmt.isEmpty()) {
                        stack.add(new Frame(stmt.get(0), List.copyOf(stmt.subList(1, stmt.size())), t.ref()));
                        stmt.clear();
                    } else if (!top.children.isEmpty() && !top.children.get(top.children.size() - 1).hasBlock()
                            && top.children.get(top.children.size() - 1).ref().line() < t.ref().line()) {
                        ConfigNode prev = top.children.remove(top.children.size() - 1);
                        stack.add(new Frame(prev.keyword(), prev.args(), t.ref()));
                    } else {
                        diags.error(t.ref(), "\"{\" without a keyword");
                        Frame anon = new Frame(t, List.of(), t.ref());
                        anon.broken = true;
                        stack.add(anon);
                    }
                } else if (t.isClose()) {
                    flush(stmt, top);
                    if (stack.size() == 1) {
                        diags.error(t.ref(), "unexpected \"}\"");
                    } else {
                        close(stack);
                    }
                } else {
                    stmt.add(t);
                }
            }
            flush(stmt, stack.get(stack.size() - 1));
        }
        while (stack.size() > 1) {
            Frame f = stack.get(stack.size() - 1);
            diags.error(f.brace, "unclosed \"{\" of \"" + describe(f) + "\"");
            markBroken(stack);
            close(stack);
        }
        return List.copyOf(root.children);
    }

    private static String describe(Frame f) {
        StringBuilder sb = new StringBuilder(f.keyword.text());
        f.args.forEach(t -> sb.append(' ').append(t.text()));
        return sb.toString();
    }

    private void unwind(List<Frame> stack) {
        while (stack.size() > 1) {
            Frame f = stack.get(stack.size() - 1);
            diags.error(f.brace, "unclosed \"{\" of \"" + describe(f) + "\"");
            markBroken(stack);
            close(stack);
        }
    }

    private static void markBroken(List<Frame> stack) {
        if (stack.size() > 1) {
            stack.get(1).broken = true;
        }
    }

    private static void flush(List<Token> stmt, Frame top) {
        if (!stmt.isEmpty()) {
            top.children.add(new ConfigNode(stmt.get(0), stmt.subList(1, stmt.size()), null, null));
            stmt.clear();
        }
    }

    private static void close(List<Frame> stack) {
        Frame f = stack.remove(stack.size() - 1);
        Frame parent = stack.get(stack.size() - 1);
        if (stack.size() == 1 && f.broken) {
            return;
        }
        if (f.keyword != null && !(f.broken && f.keyword.isOpen())) {
            parent.children.add(new ConfigNode(f.keyword, f.args, f.children, f.brace));
        }
    }
}
