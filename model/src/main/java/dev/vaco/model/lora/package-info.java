/**
 * LoRA adapters in PEFT's terms: {@link dev.vaco.model.lora.LoraConfig} ({@code lora.*}), the adaptable layers
 * {@link dev.vaco.model.lora.LoraTarget}, PEFT's adapter directory ({@link dev.vaco.model.lora.AdapterFiles}) and
 * the merge of an adapter into full weights ({@link dev.vaco.model.lora.LoraMerge}). The learner's adapted forward
 * pass is in {@code policy}.
 */
package dev.vaco.model.lora;
