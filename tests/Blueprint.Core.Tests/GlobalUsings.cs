global using CsCheck;

global using Xunit;
