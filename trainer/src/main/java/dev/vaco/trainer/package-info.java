/** vaco trainer. */
package dev.vaco.trainer;
