/** vaco reward. */
package dev.vaco.reward;
