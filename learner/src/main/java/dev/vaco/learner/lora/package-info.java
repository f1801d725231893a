/**
 * LoRA adapters in PEFT's terms: {@link dev.vaco.learner.lora.LoraConfig} ({@code lora.*}), the adaptable layers
 * {@link dev.vaco.learner.lora.LoraTarget}, PEFT's adapter directory ({@link dev.vaco.learner.lora.AdapterFiles}) and
 * the merge of an adapter into full weights ({@link dev.vaco.learner.lora.LoraMerge}). The learner's adapted forward
 * pass is in {@code policy}.
 */
package dev.vaco.learner.lora;
