/**
 * The trainer's configuration: {@link dev.vaco.trainer.config.TrainConfig} and its sections, every default in the
 * records' {@code defaults()}, loaded by {@link dev.vaco.trainer.config.ConfigLoader} from an overrides-only YAML /
 * JSON file plus {@code key.path=value} command-line overrides.
 */
package dev.vaco.trainer.config;
