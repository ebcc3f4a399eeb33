package dev.vigil.config.parse;

import java.util.Collection;

/** Finds the known keyword closest to a misspelt one (Levenshtein distance). */
public final class Suggest {
    private Suggest() {
    }

    /** The nearest of {@code known} to {@code word}, or {@code null} when none is close enough. */
    public static String nearest(String word, Collection<String> known) {
        String best = null;
        int bestDist = Integer.MAX_VALUE;
        for (String k : known.stream().sorted().toList()) {
            int dist = distance(word.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (dist < bestDist) {
                bestDist = dist;
                best = k;
            }
        }
        int limit = Math.max(2, word.length() / 3);
        return bestDist <= limit ? best : null;
    }

    /** Edit distance with insertions, deletions, substitutions and adjacent transpositions. */
    public static int distance(String a, String b) {
        int[][] dp = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            dp[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            dp[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int v = Math.min(Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1), dp[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    v = Math.min(v, dp[i - 2][j - 2] + 1);
                }
                dp[i][j] = v;
            }
        }
        return dp[a.length()][b.length()];
    }
}
