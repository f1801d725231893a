/** Model format shared by the inference server and the trainer: Hugging Face config, safetensors, tokenizer, chat template. */
package dev.vaco.model;
