package dev.vigil.daemon;

import java.util.ArrayList;
import java.util.List;

/**
 * A line diff in the unified format of {@code diff -u} (POSIX.1-2017, diff, "Unified format"):
 * {@code --- A} / {@code +++ B} headers, then hunks {@code @@ -l,s +l,s @@} of changed lines with
 * three lines of context. The edit script is a longest common subsequence of the lines, found by
 * dynamic programming after the common head and tail are set aside, which is plenty for policy
 * texts; past {@value #MAX_CELLS} cells of the table the middle is shown as replaced whole.
 */
final class UnifiedDiff {

    static final int CONTEXT = 3;
    static final long MAX_CELLS = 16_000_000L;

    private UnifiedDiff() {
    }

    /** One line of the edit script: {@code ' '} kept, {@code '-'} only in A, {@code '+'} only in B. */
    private record Edit(char op, String line) {
    }

    /** The diff of {@code a} to {@code b}, empty when they are equal. */
    static String diff(String nameA, String a, String nameB, String b) {
        List<String> x = lines(a);
        List<String> y = lines(b);
        List<Edit> script = script(x, y);
        if (script.stream().allMatch(e -> e.op() == ' ')) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        out.append("--- ").append(nameA).append('\n').append("+++ ").append(nameB).append('\n');
        // Hunks: runs of edits with at most 2*CONTEXT kept lines between changes.
        int i = 0;
        int lineA = 1;
        int lineB = 1;
        int n = script.size();
        while (i < n) {
            if (script.get(i).op() == ' ') {
                i++;
                lineA++;
                lineB++;
                continue;
            }
            int start = Math.max(0, i - CONTEXT);
            int startA = lineA - (i - start);
            int startB = lineB - (i - start);
            int end = i;
            int lastChange = i;
            while (end < n) {
                if (script.get(end).op() != ' ') {
                    lastChange = end;
                } else if (end - lastChange > 2 * CONTEXT) {
                    break;
                }
                end++;
            }
            end = Math.min(n, lastChange + CONTEXT + 1);
            int countA = 0;
            int countB = 0;
            StringBuilder body = new StringBuilder();
            for (int k = start; k < end; k++) {
                Edit e = script.get(k);
                body.append(e.op()).append(e.line()).append('\n');
                if (e.op() != '+') {
                    countA++;
                }
                if (e.op() != '-') {
                    countB++;
                }
            }
            out.append("@@ -").append(range(startA, countA)).append(" +").append(range(startB, countB)).append(" @@\n");
            out.append(body);
            for (int k = i; k < end; k++) {
                char op = script.get(k).op();
                if (op != '+') {
                    lineA++;
                }
                if (op != '-') {
                    lineB++;
                }
            }
            i = end;
        }
        return out.toString();
    }

    /** {@code l,s}, with {@code l} the line before the hunk when it is empty, as diff writes it. */
    private static String range(int start, int count) {
        return count == 0 ? (start - 1) + ",0" : count == 1 ? Integer.toString(start) : start + "," + count;
    }

    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>(List.of(text.split("\n", -1)));
        if (!out.isEmpty() && out.getLast().isEmpty()) {
            out.removeLast();
        }
        return out;
    }

    private static List<Edit> script(List<String> x, List<String> y) {
        int head = 0;
        while (head < x.size() && head < y.size() && x.get(head).equals(y.get(head))) {
            head++;
        }
        int tail = 0;
        while (tail < x.size() - head && tail < y.size() - head
                && x.get(x.size() - 1 - tail).equals(y.get(y.size() - 1 - tail))) {
            tail++;
        }
        List<String> mx = x.subList(head, x.size() - tail);
        List<String> my = y.subList(head, y.size() - tail);
        List<Edit> out = new ArrayList<>();
        for (int k = 0; k < head; k++) {
            out.add(new Edit(' ', x.get(k)));
        }
        int n = mx.size();
        int m = my.size();
        if ((long) (n + 1) * (m + 1) > MAX_CELLS) {
            mx.forEach(l -> out.add(new Edit('-', l)));
            my.forEach(l -> out.add(new Edit('+', l)));
        } else {
            // lcs[i][j]: the length of the longest common subsequence of mx[i..] and my[j..].
            int[][] lcs = new int[n + 1][m + 1];
            for (int i = n - 1; i >= 0; i--) {
                for (int j = m - 1; j >= 0; j--) {
                    lcs[i][j] = mx.get(i).equals(my.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
                }
            }
            int i = 0;
            int j = 0;
            while (i < n || j < m) {
                if (i < n && j < m && mx.get(i).equals(my.get(j))) {
                    out.add(new Edit(' ', mx.get(i++)));
                    j++;
                } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                    out.add(new Edit('-', mx.get(i++)));
                } else {
                    out.add(new Edit('+', my.get(j++)));
                }
            }
        }
        for (int k = x.size() - tail; k < x.size(); k++) {
            out.add(new Edit(' ', x.get(k)));
        }
        return out;
    }
}
