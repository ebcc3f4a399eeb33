/**
 * The typed, immutable model of a keepalived configuration. Values are effective: defaults and
 * global fallbacks are already applied, following keepalived 2.x.
 */
package dev.vigil.config.model;
