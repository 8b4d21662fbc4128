namespace Dstar.Core.Attacks;

/// <summary>
/// An attack cannot craft its rows: it needs honest rows and got none, it needs the server's pipeline and none was
/// given, its formula is undefined for the round's n and f, or the shapes disagree. The message names the attack.
/// </summary>
public sealed class AttackException(string message) : Exception(message);
