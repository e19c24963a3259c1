// Arch names are shared by config, generators and the service: they live in src/core.
export * from '../core/arch.js';
